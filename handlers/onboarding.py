"""/start onboarding: goal, band, reminder schedule, time zone, in four taps."""

from __future__ import annotations

from telegram import Update

from bot import onboarding as service
from bot.context import BandCoachContext
from handlers.updates import chat_of, data_of, text_of
from storage.models import User


async def start(update: Update, context: BandCoachContext) -> None:
    """Register or welcome back the user and continue or offer to change their settings."""
    chat, tg_user = chat_of(update), update.effective_user
    assert tg_user is not None
    reply = await service.start(context.bot_data, chat.user_id, chat.chat_id, tg_user.first_name)
    await context.delivery.reply(update, reply)


async def on_button(update: Update, context: BandCoachContext) -> None:
    """Handle a tap on an onboarding choice."""
    reply = await service.on_button(context.bot_data, chat_of(update).user_id, data_of(update))
    await context.delivery.reply(update, reply)


async def on_typed(update: Update, context: BandCoachContext, user: User) -> None:
    """Handle text typed mid-onboarding: a time at the schedule step, a zone at the last."""
    reply = await service.typed(context.bot_data, user, text_of(update))
    await context.delivery.reply(update, reply)
