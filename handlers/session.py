"""/warmup and the buttons of a guided session: read the update, call the service, deliver."""

from __future__ import annotations

from telegram import Update

from bot import warmup_setup, warmups
from bot.coaching import session_texts as t
from bot.coaching.screen import Reply
from bot.coaching.states import Awaited
from bot.context import BandCoachContext
from handlers.updates import chat_of, data_of, text_of
from storage.models import User


async def warmup(update: Update, context: BandCoachContext) -> None:
    """Offer to resume a session in progress, or the routines with the suggestion first."""
    reply = await warmup_setup.open_menu(context.bot_data, chat_of(update).user_id)
    await context.delivery.reply(update, reply)


async def on_setup_button(update: Update, context: BandCoachContext) -> None:
    """Handle the routine, moves, rounds and band choices, and Resume / Abandon."""
    reply = await warmup_setup.on_setup(context.bot_data, chat_of(update), data_of(update))
    await context.delivery.reply(update, reply)


async def on_session_button(update: Update, context: BandCoachContext) -> None:
    """Handle Done / Fewer / a number / Skip / Stop / Start timer / Skip rest / Back."""
    reply = await warmups.on_tap(context.bot_data, chat_of(update), data_of(update))
    await context.delivery.reply(update, reply)


async def on_typed_count(
    update: Update, context: BandCoachContext, user: User, awaited: Awaited
) -> None:
    """Log a typed 'how many' after Fewer, or explain and ask again."""
    deps, chat = context.bot_data, chat_of(update)
    reply = await warmups.on_typed_count(deps, chat, awaited, text_of(update))
    await context.delivery.reply(update, reply)


async def on_typed_in_session(
    update: Update, context: BandCoachContext, user: User, awaited: Awaited
) -> None:
    """Remind a member mid-session to use the buttons."""
    await context.delivery.reply(update, Reply.text(t.USE_BUTTONS))
