"""/reminders, its buttons, typed time and zone, shared locations, and taps on a nudge."""

from __future__ import annotations

from telegram import Update

from bot import reminder_settings as service
from bot.coaching.states import Awaited
from bot.context import BandCoachContext
from handlers.updates import chat_of, data_of, text_of
from storage.models import User


async def reminders_command(update: Update, context: BandCoachContext) -> None:
    """Show the reminder schedule (/reminders)."""
    reply = await service.command(context.bot_data, chat_of(update).user_id)
    await context.delivery.reply(update, reply)


async def on_settings_button(update: Update, context: BandCoachContext) -> None:
    """Handle a tap in the /reminders menu (rs:…)."""
    reply = await service.on_settings(context.bot_data, chat_of(update).user_id, data_of(update))
    await context.delivery.reply(update, reply)


async def on_typed_time(
    update: Update, context: BandCoachContext, user: User, awaited: Awaited
) -> None:
    """Accept a typed reminder time, or explain and ask again."""
    reply = await service.typed_time(context.bot_data, user, text_of(update))
    await context.delivery.reply(update, reply)


async def on_typed_zone(
    update: Update, context: BandCoachContext, user: User, awaited: Awaited
) -> None:
    """Accept a typed time zone, or explain and ask again."""
    reply = await service.typed_zone(context.bot_data, user, text_of(update))
    await context.delivery.reply(update, reply)


async def on_location(update: Update, context: BandCoachContext) -> None:
    """Set the time zone from a shared location while /reminders asks for one."""
    message = update.effective_message
    assert message is not None and message.location is not None
    where = message.location
    reply = await service.location(
        context.bot_data, chat_of(update).user_id, where.latitude, where.longitude
    )
    await context.delivery.reply(update, reply)


async def on_nudge_button(update: Update, context: BandCoachContext) -> None:
    """Handle Start now / Snooze 1 h / Skip today on a reminder."""
    reply = await service.on_nudge(context.bot_data, chat_of(update).user_id, data_of(update))
    await context.delivery.reply(update, reply)
