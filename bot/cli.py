"""The `bandcoach` command line: run the bot, chat with it offline, or migrate its database."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from sqlalchemy.engine import make_url

from bot.coaching.catalogue import CatalogueError
from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from bot.startup_errors import explain

EXIT_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="bandcoach",
        description="Band Coach: a Telegram coach for mini-band warm-ups. "
        "Settings come from environment variables or a .env file (see README).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run = sub.add_parser(
        "run",
        help="run the bot: long polling, or a webhook with --webhook or WEBHOOK_URL",
        description="Migrate the database, then run the bot until SIGINT or SIGTERM: with long "
        "polling, or serving Telegram's webhook on PORT (and /healthz) when --webhook is given "
        "or WEBHOOK_URL is set. Needs TELEGRAM_BOT_TOKEN; a webhook needs WEBHOOK_SECRET too.",
    )
    run.add_argument(
        "--webhook", action="store_true",
        help="serve Telegram's webhook at WEBHOOK_URL (needs WEBHOOK_URL and WEBHOOK_SECRET)",
    )  # fmt: skip
    sub.add_parser(
        "migrate",
        help="apply database migrations and exit",
        description="Bring the database at DATABASE_URL up to the newest schema.",
    )
    chat = sub.add_parser(
        "chat",
        help="chat with the bot in this terminal, offline (no token needed)",
        description="Run the real bot against a built-in fake Telegram and chat with it here. "
        "Same database as `run`. Type a button's number or label to tap it; /quit or Ctrl-D "
        "leaves.",
    )
    chat.add_argument(
        "--user-id", type=_user_id, default=1, metavar="N", help="your Telegram user id (default 1)"
    )
    chat.add_argument("--name", metavar="NAME", help="your first name (default: $USER)")
    chat.add_argument(
        "--fast", action="store_true", help="run timers, rests and reminders 10x faster"
    )
    return parser


def _user_id(text: str) -> int:
    """Parse --user-id: a positive whole number."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return int(text)


def _safe_url(url: str) -> str:
    """Return a database URL with its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def cmd_run(settings: Settings, webhook: bool = False) -> int:
    """Run the bot with long polling, or serving its webhook, until a stop signal."""
    from telegram import Update

    from bot.app import build_application

    token = settings.require_token()
    if webhook or settings.webhook_url:
        if not settings.webhook_url:
            raise ConfigError(
                "WEBHOOK_URL is not set: --webhook needs the public https URL Telegram posts to."
            )
        secret = settings.require_webhook_secret()
        configure_logging(settings.log_level, secrets=(token, secret), fmt=settings.log_format)
        from bot.webhook import serve

        asyncio.run(serve(build_application(settings), settings, secret))
        return 0
    configure_logging(settings.log_level, secrets=(token,), fmt=settings.log_format)
    app = build_application(settings)
    app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return 0


def cmd_migrate(settings: Settings) -> int:
    """Apply migrations and print the revision the database is at."""
    from storage.db import Database
    from storage.migrate import upgrade

    configure_logging(settings.log_level, fmt=settings.log_format)
    url = settings.async_database_url()

    async def go() -> str | None:
        db = Database(url)
        try:
            return await upgrade(db)
        finally:
            await db.dispose()

    revision = asyncio.run(go())
    print(f"Database {_safe_url(url)} is at revision {revision}.")
    return 0


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Chat with the real bot in this terminal, against the in-process fake Telegram."""
    from bot.console.chat import ChatOptions, default_name, run_chat

    options = ChatOptions(user_id=args.user_id, name=args.name or default_name(), fast=args.fast)
    return run_chat(settings, options)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, load settings and dispatch; config problems exit 2 with one line."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"bandcoach: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        if args.command == "run":
            return cmd_run(settings, webhook=args.webhook)
        if args.command == "chat":
            return cmd_chat(settings, args)
        return cmd_migrate(settings)
    except (ConfigError, CatalogueError) as exc:
        print(f"bandcoach: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        line = explain(exc, settings)
        if line is None:
            raise
        print(f"bandcoach: {line}", file=sys.stderr)
        return EXIT_CONFIG


def entry_point() -> None:
    """Console-script entry: exit with main()'s status."""
    sys.exit(main())
