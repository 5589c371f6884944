"""The assembly point: build the PTB Application with handlers, database and commands."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.clock import Clock, system_clock
from bot.coaching import texts
from bot.coaching.catalogue import Catalogue, load_catalogue
from bot.config import Settings
from bot.context import (
    CATALOGUE_KEY,
    CLOCK_KEY,
    DB_KEY,
    SETTINGS_KEY,
    BandCoachApp,
    BandCoachContext,
)
from bot.scheduler import schedule_jobs
from handlers import checkin, common, errors, onboarding, reminders, session
from handlers.checkin_keyboards import CHECKIN
from handlers.keyboards import ONBOARDING, SETTINGS_MENU
from handlers.reminder_keyboards import NUDGE, SETTINGS
from handlers.session_keyboards import SESSION, SETUP
from storage.db import Database
from storage.migrate import upgrade

logger = logging.getLogger(__name__)

# Updates from different users are handled concurrently; state changes are atomic in the DB.
CONCURRENT_UPDATES = 32


def build_handlers() -> list[BaseHandler[Update, BandCoachContext, Any]]:
    """Return every handler in the order it is tried; order matters, first match wins."""
    new_messages = filters.UpdateType.MESSAGE
    return [
        # Commands first, so a command is never mistaken for typed input.
        CommandHandler("start", onboarding.start, filters=new_messages),
        CommandHandler("help", common.help_command, filters=new_messages),
        CommandHandler("reminders", reminders.reminders_command, filters=new_messages),
        CommandHandler("warmup", session.warmup, filters=new_messages),
        CommandHandler("checkin", checkin.checkin_command, filters=new_messages),
        CommandHandler("plan", checkin.plan_command, filters=new_messages),
        # Buttons, by the prefix of their callback data.
        CallbackQueryHandler(onboarding.on_button, pattern=rf"^{ONBOARDING}:"),
        CallbackQueryHandler(onboarding.on_settings_menu, pattern=rf"^{SETTINGS_MENU}:"),
        CallbackQueryHandler(reminders.on_nudge_button, pattern=rf"^{NUDGE}:"),
        CallbackQueryHandler(reminders.on_settings_button, pattern=rf"^{SETTINGS}:"),
        CallbackQueryHandler(session.on_setup_button, pattern=rf"^{SETUP}:"),
        CallbackQueryHandler(session.on_session_button, pattern=rf"^{SESSION}:"),
        CallbackQueryHandler(checkin.on_button, pattern=rf"^{CHECKIN}:"),
        # Typed text goes to whatever the user's stored state is waiting for.
        MessageHandler(new_messages & filters.TEXT & ~filters.COMMAND, common.on_text),
        # A shared location answers /reminders' time zone question.
        MessageHandler(new_messages & filters.LOCATION, reminders.on_location),
        # Catch-alls last: unknown commands, buttons and message kinds get a friendly pointer.
        MessageHandler(new_messages & filters.COMMAND, common.unknown_command),
        CallbackQueryHandler(common.unknown_button),
        MessageHandler(new_messages, common.unsupported),
    ]


async def post_init(app: BandCoachApp) -> None:
    """Migrate the database and publish the command menu; runs before the first update."""
    await upgrade(app.bot_data[DB_KEY])
    await app.bot.set_my_commands([BotCommand(name, desc) for name, desc in texts.COMMANDS])
    schedule_jobs(app)
    logger.info("Band Coach is ready as @%s", app.bot.username)


async def post_shutdown(app: BandCoachApp) -> None:
    """Close the database pool."""
    await app.bot_data[DB_KEY].dispose()


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    clock: Clock = system_clock,
    catalogue: Catalogue | None = None,
) -> BandCoachApp:
    """Build the Application: handlers, error handler, DB, rate limiter and lifecycle hooks."""
    # Validated before anything else, so a bad catalogue stops start-up with one clear line.
    loaded_catalogue = catalogue if catalogue is not None else load_catalogue()
    builder = (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.telegram_api_base_url)
        .context_types(ContextTypes(context=BandCoachContext))
        .rate_limiter(AIORateLimiter())
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    app: BandCoachApp = builder.build()  # type: ignore[assignment]
    app.bot_data[SETTINGS_KEY] = settings
    app.bot_data[CLOCK_KEY] = clock
    app.bot_data[CATALOGUE_KEY] = loaded_catalogue
    app.bot_data[DB_KEY] = Database(settings.async_database_url())
    app.add_handlers(build_handlers())
    app.add_error_handler(errors.on_error)
    return app
