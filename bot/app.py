"""The assembly point: build the PTB Application with handlers, database and commands."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
from collections.abc import Callable
from importlib.metadata import entry_points

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest

from bot.alerts import Alerts
from bot.clock import Clock, system_clock
from bot.coaching import texts
from bot.coaching.catalogue import Catalogue, load_catalogue
from bot.coaching.screen import Screen
from bot.config import ConfigError, Settings
from bot.context import BandCoachApp, BandCoachContext, BotData
from bot.delivery import Delivery, Lane, LaneLimiter
from bot.delivery.request import BotRequest
from bot.scheduler import schedule_jobs
from bot.update_log import LoggedApplication
from storage.db import Database
from storage.migrate import upgrade

logger = logging.getLogger(__name__)

# Updates from different users are handled concurrently; state changes are atomic in the DB.
CONCURRENT_UPDATES = 32
SETTLE_SECONDS = 10.0
REQUEST_POOL = 256  # connections to the Bot API, as PTB's own default request has
# handlers/ sits above everything in bot/, so bot/ never imports it: the package metadata
# (pyproject's entry point) names the function that installs the handlers on an Application.
ROUTES_GROUP = "bandcoach.handlers"

Routes = Callable[[BandCoachApp], None]


def installed_routes() -> Routes:
    """Return the installed function that adds every handler and the error handler."""
    found = entry_points(group=ROUTES_GROUP, name="install")
    if not found:
        raise ConfigError("Band Coach is not installed: run `pip install -e .` first.")
    return next(iter(found)).load()  # type: ignore[no-any-return]


async def publish_commands(app: BandCoachApp) -> None:
    """Publish the command menu: every member's commands, and /stats for each coach too."""
    await app.bot.set_my_commands([BotCommand(name, desc) for name, desc in texts.COMMANDS])
    coach = [BotCommand(name, desc) for name, desc in texts.COMMANDS + texts.COACH_COMMANDS]
    for admin in app.bot_data.settings.admin_user_ids:
        try:
            await app.bot.set_my_commands(coach, scope=BotCommandScopeChat(admin))
        except TelegramError as exc:  # a coach who never opened the chat: the default menu
            logger.info("Could not publish the coach's commands to %s: %s", admin, exc.message)


def freeze_startup_heap() -> None:
    """Keep what start-up built out of every later full garbage collection (once a process).

    Modules, PTB, SQLAlchemy and the catalogue live as long as the process. Left in the
    oldest generation, each full collection walks them all again: a timer pass or a crowded
    reminder slot allocates enough to set off several, each some tens of milliseconds.
    """
    if gc.get_freeze_count() == 0:
        gc.collect()  # nothing already garbage is kept forever
        gc.freeze()


async def post_init(app: BandCoachApp) -> None:
    """Migrate, publish the commands, start the jobs and push what a restart left pending."""
    deps = app.bot_data
    await upgrade(deps.db)
    await publish_commands(app)
    schedule_jobs(app)
    try:
        pushed = await deps.delivery.converge(startup=True)
    except Exception as exc:  # the delivery job retries every second
        await deps.alerts.failed(exc, where="delivery")
    else:
        if pushed:
            logger.info("Brought %d message(s) left pending up to date", pushed)
    freeze_startup_heap()
    logger.info("Band Coach is ready as @%s", app.bot.username)


async def settle_deliveries(app: BandCoachApp, seconds: float) -> None:
    """Let pushes in flight finish while the bot can still reach Telegram (for `seconds`)."""
    try:
        await asyncio.wait_for(app.bot_data.delivery.settle(), max(seconds, 0.1))
    except TimeoutError:
        logger.warning("Stopped with messages still on their way; the next start sends them")


async def post_stop(app: BandCoachApp) -> None:
    """Let pushes in flight finish while the bot can still reach Telegram (10 s at most)."""
    await settle_deliveries(app, SETTLE_SECONDS)


async def post_shutdown(app: BandCoachApp) -> None:
    """Stop the delivery lanes and close the database pool."""
    await app.bot_data.delivery.close()
    await app.bot_data.db.dispose()


def _assemble(app: BandCoachApp, settings: Settings, clock: Clock, catalogue: Catalogue) -> None:
    """Fill in the shared parts every callback and job reads from bot_data."""
    deps = app.bot_data
    deps.settings, deps.clock, deps.catalogue = settings, clock, catalogue
    deps.db = Database(
        settings.async_database_url(),
        busy_timeout=settings.sqlite_busy_timeout,
        pool_size=settings.database_pool_size,
    )
    limiter = LaneLimiter(settings.telegram_messages_per_second)

    async def notify_admins(text: str) -> None:
        for admin_id in deps.settings.admin_user_ids:
            await deps.delivery.once(admin_id, Screen(text), lane=Lane.BROADCAST)

    token = settings.telegram_bot_token
    secrets = (token.get_secret_value(),) if token is not None else ()
    if isinstance(app, LoggedApplication):  # members are hashed with a key this bot alone has
        app.hash_key = hashlib.blake2b(b"member-hash:" + "".join(secrets).encode()).digest()
    deps.alerts = Alerts(clock, notify_admins, logging.getLogger("bot.alerts"), secrets=secrets)
    deps.delivery = Delivery(
        app.bot, deps.db, clock, limiter,
        sleep=lambda seconds: deps.sleep(seconds),
        on_failure=lambda exc, where: deps.alerts.failed(exc, where=where),
        on_success=lambda where: deps.alerts.succeeded(where),
    )  # fmt: skip


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    clock: Clock = system_clock,
    catalogue: Catalogue | None = None,
    routes: Routes | None = None,
) -> BandCoachApp:
    """Build the Application: handlers, error handler, DB, delivery and lifecycle hooks."""
    # Validated before anything else, so a bad catalogue stops start-up with one clear line.
    loaded_catalogue = catalogue if catalogue is not None else load_catalogue()
    builder = (
        ApplicationBuilder()
        .application_class(LoggedApplication)
        .token(settings.require_token())
        .base_url(settings.telegram_api_base_url)
        .context_types(ContextTypes(context=BandCoachContext, bot_data=BotData))
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(post_init)
        .post_stop(post_stop)
        .post_shutdown(post_shutdown)
    )
    builder = builder.request(request or BotRequest(connection_pool_size=REQUEST_POOL))
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    app: BandCoachApp = builder.build()  # type: ignore[assignment]
    _assemble(app, settings, clock, loaded_catalogue)
    (routes or installed_routes())(app)
    return app
