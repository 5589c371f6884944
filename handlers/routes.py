"""Every handler in the order PTB tries them, and the error handler."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import update_log
from bot.coaching.checkin_keyboards import CHECKIN
from bot.coaching.data_texts import DATA
from bot.coaching.morning import PREFIX as MORNING
from bot.coaching.onboarding_keyboards import EDIT, ONBOARDING, SETTINGS_MENU
from bot.coaching.reminder_keyboards import NUDGE, SETTINGS
from bot.coaching.report_keyboards import REPORTS
from bot.coaching.session_keyboards import SESSION, SETUP
from bot.context import BandCoachApp, BandCoachContext
from handlers import checkin, common, errors, onboarding, progress, reminders, session, settings

Callback = Callable[[Update, BandCoachContext], Coroutine[Any, Any, None]]

# Commands in private chats, in the order they are tried.
COMMANDS: tuple[tuple[str, Callback], ...] = (
    ("start", onboarding.start),
    ("help", common.help_command),
    ("reminders", reminders.reminders_command),
    ("warmup", session.warmup),
    ("checkin", checkin.checkin_command),
    ("plan", checkin.plan_command),
    ("progress", progress.progress_command),
    ("summary", progress.summary_command),
    ("history", progress.history_command),
    ("settings", settings.settings_command),
    ("export", settings.export_command),
    ("deletedata", settings.delete_command),
    ("stats", settings.stats_command),
)
# Buttons, by the prefix of their callback data.
BUTTONS: tuple[tuple[str, Callback], ...] = (
    (ONBOARDING, onboarding.on_button),
    (SETTINGS_MENU, settings.on_menu_button),
    (EDIT, onboarding.on_button),
    (REPORTS, progress.on_button),
    (DATA, settings.on_delete_button),
    (NUDGE, reminders.on_nudge_button),
    (SETTINGS, reminders.on_settings_button),
    (SETUP, session.on_setup_button),
    (SESSION, session.on_session_button),
    (CHECKIN, checkin.on_button),
    (MORNING, checkin.on_morning_button),
)


def build_handlers() -> list[BaseHandler[Update, BandCoachContext, Any]]:
    """Return every handler in the order it is tried; order matters, first match wins."""
    # A private-chat bot: everything below answers only new messages in private chats.
    new_messages = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
    return [
        # Someone blocked or unblocked the bot.
        ChatMemberHandler(common.membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        # In a group, /start and /help addressed to this bot get a pointer to a private chat;
        # everything else there is ignored, and nothing there changes anyone's data.
        CommandHandler(
            ["start", "help"],
            common.private_only,
            filters=filters.UpdateType.MESSAGE & filters.ChatType.GROUPS,
        ),
        # Commands first, so a command is never mistaken for typed input.
        *(CommandHandler(name, call, filters=new_messages) for name, call in COMMANDS),
        *(CallbackQueryHandler(call, pattern=rf"^{prefix}:") for prefix, call in BUTTONS),
        # Typed text goes to whatever the user's stored state is waiting for.
        MessageHandler(new_messages & filters.TEXT & ~filters.COMMAND, common.on_text),
        # A shared location answers /reminders' time zone question.
        MessageHandler(new_messages & filters.LOCATION, reminders.on_location),
        # Catch-alls last: unknown commands, buttons and message kinds get a friendly pointer;
        # service messages (a pinned message, a changed background, …) get no answer.
        MessageHandler(new_messages & filters.COMMAND, common.unknown_command),
        CallbackQueryHandler(common.unknown_button),
        MessageHandler(new_messages & ~filters.StatusUpdate.ALL, common.unsupported),
    ]


def install(app: BandCoachApp) -> None:
    """Add every handler and the error handler to an Application (the package's entry point)."""
    handlers = build_handlers()
    for handler in handlers:  # each update's log line names the callback that handled it
        handler.callback = update_log.named(handler.callback)
    app.add_handlers(handlers)
    app.add_error_handler(errors.on_error)
