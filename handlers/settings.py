"""/settings, /export, /deletedata and /stats: a member's settings and data, a coach's view."""

from __future__ import annotations

from telegram import Update

from bot import coach, member_data, settings_menu
from bot.context import BandCoachContext
from handlers.updates import chat_of, data_of


async def settings_command(update: Update, context: BandCoachContext) -> None:
    """Show the settings menu."""
    reply = await settings_menu.command(context.bot_data, chat_of(update).user_id)
    await context.delivery.reply(update, reply)


async def on_menu_button(update: Update, context: BandCoachContext) -> None:
    """Handle a tap on the settings menu (also shown by /start to a member already set up)."""
    reply = await settings_menu.on_button(
        context.bot_data, chat_of(update).user_id, data_of(update)
    )
    await context.delivery.reply(update, reply)


async def export_command(update: Update, context: BandCoachContext) -> None:
    """Send the member's sets and check-ins as CSV files."""
    reply = await member_data.export(context.bot_data, chat_of(update).user_id)
    await context.delivery.reply(update, reply)


async def delete_command(update: Update, context: BandCoachContext) -> None:
    """Ask the member to confirm deleting everything about them."""
    reply = await member_data.ask_delete(context.bot_data, chat_of(update).user_id)
    await context.delivery.reply(update, reply)


async def on_delete_button(update: Update, context: BandCoachContext) -> None:
    """Delete the member's data, or keep it."""
    reply = await member_data.on_button(context.bot_data, chat_of(update).user_id, data_of(update))
    await context.delivery.reply(update, reply)


async def stats_command(update: Update, context: BandCoachContext) -> None:
    """Show the coach's overview (admins only)."""
    reply = await coach.stats(context.bot_data, chat_of(update).user_id)
    await context.delivery.reply(update, reply)
