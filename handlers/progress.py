"""/progress, /summary, /history and their buttons."""

from __future__ import annotations

from telegram import Update

from bot import history, progress_report
from bot.context import BandCoachContext
from handlers.updates import chat_of, data_of


async def progress_command(update: Update, context: BandCoachContext) -> None:
    """Show the progress summary and its chart."""
    reply = await progress_report.progress(context.bot_data, chat_of(update).user_id)
    await context.delivery.reply(update, reply)


async def summary_command(update: Update, context: BandCoachContext) -> None:
    """Send the one-page summary to share."""
    reply = await progress_report.summary(context.bot_data, chat_of(update).user_id)
    await context.delivery.reply(update, reply)


async def history_command(update: Update, context: BandCoachContext) -> None:
    """Show the newest page of past sessions."""
    reply = await history.page(context.bot_data, chat_of(update).user_id)
    await context.delivery.reply(update, reply)


async def on_button(update: Update, context: BandCoachContext) -> None:
    """Handle the summary button and the older/newer buttons of /history."""
    reply = await history.on_button(context.bot_data, chat_of(update).user_id, data_of(update))
    await context.delivery.reply(update, reply)
