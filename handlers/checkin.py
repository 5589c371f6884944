"""The pain check-in: /checkin, /plan, its buttons and the typed note, via bot.checkin_taps."""

from __future__ import annotations

from telegram import Update

from bot import checkin_taps, morning_checks
from bot.coaching.states import Awaited
from bot.context import BandCoachContext
from handlers.updates import chat_of, data_of, text_of
from storage.models import User


async def checkin_command(update: Update, context: BandCoachContext) -> None:
    """Start a check-in for the last session without one, or a re-answer within 12 hours."""
    reply = await checkin_taps.command(context.bot_data, chat_of(update).user_id)
    await context.delivery.reply(update, reply)


async def plan_command(update: Update, context: BandCoachContext) -> None:
    """Show the current prescription for every routine."""
    reply = await checkin_taps.plan(context.bot_data, chat_of(update).user_id)
    await context.delivery.reply(update, reply)


async def on_button(update: Update, context: BandCoachContext) -> None:
    """Handle a check-in button: pain, an area, that's all, the side, or no note."""
    query = update.callback_query
    assert query is not None
    shown: str = getattr(query.message, "text", None) or ""  # None if the message is too old
    reply = await checkin_taps.on_tap(context.bot_data, chat_of(update), data_of(update), shown)
    await context.delivery.reply(update, reply)


async def on_morning_button(update: Update, context: BandCoachContext) -> None:
    """Handle an answer to the next-morning question: better, as usual or worse."""
    reply = await morning_checks.on_tap(context.bot_data, chat_of(update), data_of(update))
    await context.delivery.reply(update, reply)


async def on_typed_note(
    update: Update, context: BandCoachContext, user: User, awaited: Awaited
) -> None:
    """Save a typed note after a check-in, or refuse one longer than 500 characters."""
    reply = await checkin_taps.typed_note(context.bot_data, user.id, awaited, text_of(update))
    await context.delivery.reply(update, reply)
