"""The `bandcoach` command line: run the bot, or migrate its database."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from sqlalchemy.engine import make_url

from bot.coaching.catalogue import CatalogueError
from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging

EXIT_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="bandcoach",
        description="Band Coach: a Telegram coach for mini-band warm-ups. "
        "Settings come from environment variables or a .env file (see README).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser(
        "run",
        help="run the bot with long polling (needs TELEGRAM_BOT_TOKEN)",
        description="Migrate the database, then run the bot with long polling until "
        "SIGINT or SIGTERM.",
    )
    sub.add_parser(
        "migrate",
        help="apply database migrations and exit",
        description="Bring the database at DATABASE_URL up to the newest schema.",
    )
    return parser


def _safe_url(url: str) -> str:
    """Return a database URL with its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def cmd_run(settings: Settings) -> int:
    """Run the bot with long polling until a stop signal."""
    from telegram import Update

    from bot.app import build_application

    token = settings.require_token()
    configure_logging(settings.log_level, secrets=(token,))
    app = build_application(settings)
    app.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return 0


def cmd_migrate(settings: Settings) -> int:
    """Apply migrations and print the revision the database is at."""
    from storage.db import Database
    from storage.migrate import upgrade

    configure_logging(settings.log_level)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, load settings and dispatch; config problems exit 2 with one line."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "run":
            return cmd_run(settings)
        return cmd_migrate(settings)
    except (ConfigError, CatalogueError) as exc:
        print(f"bandcoach: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


def entry_point() -> None:
    """Console-script entry: exit with main()'s status."""
    sys.exit(main())
