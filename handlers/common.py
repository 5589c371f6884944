"""/help, typed text routing, and friendly answers to anything unexpected."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.constants import ChatType

from bot import membership
from bot.coach import is_admin
from bot.coaching import texts
from bot.coaching.screen import Reply
from bot.coaching.states import Awaited, Awaiting
from bot.context import BandCoachContext
from handlers import checkin, onboarding, reminders, session
from handlers.updates import chat_of, text_of
from storage import repositories as repo
from storage.models import User

TypedInputHandler = Callable[[Update, BandCoachContext, User, Awaited], Awaitable[None]]

# What typed text means while users.awaiting is set; features register here.
AWAITING_HANDLERS: dict[Awaiting, TypedInputHandler] = {
    Awaiting.REMINDER_TIME: reminders.on_typed_time,
    Awaiting.REMINDER_ZONE: reminders.on_typed_zone,
    Awaiting.COUNT: session.on_typed_count,
    Awaiting.SESSION: session.on_typed_in_session,
    Awaiting.NOTE: checkin.on_typed_note,
}


async def help_command(update: Update, context: BandCoachContext) -> None:
    """List every command."""
    coach = is_admin(context.bot_data, chat_of(update).user_id)
    await context.delivery.reply(update, Reply.text(texts.help_text(coach=coach)))


async def on_text(update: Update, context: BandCoachContext) -> None:
    """Route typed text to whatever the bot is waiting for, or point the user to /help."""
    assert update.effective_user is not None
    async with context.db.read() as session:
        user = await repo.get_user(session, update.effective_user.id)
    awaited = Awaited.decode(user.awaiting) if user is not None else None
    if user is None:
        await context.delivery.reply(update, Reply.text(texts.NEED_START))
    elif user.onboarding_step is not None:
        await onboarding.on_typed(update, context, user)
    elif awaited is not None:
        await AWAITING_HANDLERS[awaited.kind](update, context, user, awaited)
    else:
        await context.delivery.reply(update, Reply.text(texts.UNKNOWN_TEXT))


async def unknown_command(update: Update, context: BandCoachContext) -> None:
    """Answer a command the bot does not know; ignore one addressed to another bot."""
    command = text_of(update).split()[0][:40]
    _, at, addressee = command.partition("@")
    if at and addressee.lower() != (context.bot.username or "").lower():
        return
    text = texts.UNKNOWN_COMMAND.format(command=command, commands=texts.command_list())
    await context.delivery.reply(update, Reply.text(text))


async def private_only(update: Update, context: BandCoachContext) -> None:
    """Answer /start or /help in a group with a pointer to a private chat."""
    await context.delivery.reply(update, membership.private_only(context.bot.username or ""))


async def membership_changed(update: Update, context: BandCoachContext) -> None:
    """Mark a member inactive when they block the bot, active when they unblock it."""
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    status = change.new_chat_member.status
    await membership.changed(context.bot_data, change.from_user.id, change.chat.id, status)


async def unknown_button(update: Update, context: BandCoachContext) -> None:
    """Answer a tap on a button no handler recognises (forged or from an old version)."""
    await context.delivery.reply(update, Reply(answer=texts.UNKNOWN_BUTTON, alert=True))


async def unsupported(update: Update, context: BandCoachContext) -> None:
    """Answer stickers, photos, voice notes and the like."""
    await context.delivery.reply(update, Reply.text(texts.UNSUPPORTED))
