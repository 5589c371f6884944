"""/help, typed text routing, and friendly answers to anything unexpected."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.checkins import AWAIT_NOTE
from bot.coaching import texts
from bot.context import BandCoachContext
from handlers import checkin, onboarding, reminders, session
from storage import repositories as repo
from storage.models import User

TypedInputHandler = Callable[[Update, BandCoachContext, User], Awaitable[None]]

# What typed text means while users.awaiting is set, keyed by the part before the first ":".
# Features register here, e.g. "count" (how many reps) or "reminder_time".
AWAITING_HANDLERS: dict[str, TypedInputHandler] = {
    reminders.AWAIT_TIME: reminders.on_typed_time,
    reminders.AWAIT_ZONE: reminders.on_typed_zone,
    "count": session.on_typed_count,
    "session": session.on_typed_in_session,
    AWAIT_NOTE: checkin.on_typed_note,
}


async def help_command(update: Update, context: BandCoachContext) -> None:
    """List every command."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.help_text())


async def on_text(update: Update, context: BandCoachContext) -> None:
    """Route typed text to whatever the bot is waiting for, or point the user to /help."""
    message, tg_user = update.effective_message, update.effective_user
    assert message is not None and tg_user is not None
    async with context.db.read() as session:
        user = await repo.get_user(session, tg_user.id)
    if user is None:
        await message.reply_text(texts.NEED_START)
    elif user.onboarding_step is not None:
        await onboarding.on_typed(update, context, user)
    elif user.awaiting and (handler := AWAITING_HANDLERS.get(user.awaiting.split(":", 1)[0])):
        await handler(update, context, user)
    else:
        await message.reply_text(texts.UNKNOWN_TEXT)


async def unknown_command(update: Update, context: BandCoachContext) -> None:
    """Answer a command the bot does not know with the list it does know."""
    message = update.effective_message
    assert message is not None and message.text is not None
    command = message.text.split()[0][:40]
    await message.reply_text(
        texts.UNKNOWN_COMMAND.format(command=command, commands=texts.command_list())
    )


async def unknown_button(update: Update, context: BandCoachContext) -> None:
    """Answer a tap on a button no handler recognises (forged or from an old version)."""
    assert update.callback_query is not None
    await update.callback_query.answer(texts.UNKNOWN_BUTTON, show_alert=True)


async def unsupported(update: Update, context: BandCoachContext) -> None:
    """Answer stickers, photos, voice notes and the like."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.UNSUPPORTED)
