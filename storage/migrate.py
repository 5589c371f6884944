"""Apply Alembic migrations from code: at start-up and from `bandcoach migrate`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same in every bot process sharing a database.
PG_MIGRATION_LOCK = 7_305_001


def alembic_config() -> Config:
    """Return an Alembic config pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """Return the newest revision id shipped with the code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def _upgrade(connection: Connection, revision: str) -> None:
    """Run Alembic's upgrade on an open connection."""
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


def _current(connection: Connection) -> str | None:
    """Return the revision the database is at."""
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(db: Database, revision: str = "head") -> str | None:
    """Migrate the database to `revision`, one process at a time, and return the new revision.

    On SQLite, foreign keys are off while it runs: a migration that rebuilds a table drops
    the old one, and with them on that drop would cascade into every referencing row. They
    are checked once it is done, and turned back on.
    """
    async with db.write_engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection if db.is_sqlite else None
        if driver is not None:  # outside any transaction, where the PRAGMA takes effect
            await driver.execute("PRAGMA foreign_keys=OFF")
        try:
            async with conn.begin():
                if not db.is_sqlite:
                    # Two bot processes starting together must not both run the same DDL.
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK}
                    )
                before = await conn.run_sync(_current)
                await conn.run_sync(_upgrade, revision)
                after = await conn.run_sync(_current)
                if driver is not None and after != before:
                    await _no_broken_references(conn)
        finally:
            if driver is not None:
                await _foreign_keys_back_on(conn, driver)
    if before != after:
        logger.info("Database migrated from %s to %s", before or "empty", after)
    return after


async def _foreign_keys_back_on(conn: AsyncConnection, driver: Any) -> None:
    """Turn SQLite's foreign keys back on; a connection that will not is not pooled again."""
    try:
        await driver.execute("PRAGMA foreign_keys=ON")
        cursor = await driver.execute("PRAGMA foreign_keys")
        on = (await cursor.fetchone())[0] == 1
    except Exception:
        on = False
    if not on:
        await conn.invalidate()


async def _no_broken_references(conn: AsyncConnection) -> None:
    """Fail the migration (it rolls back) if a SQLite row points at a row that is not there."""
    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
    if broken:
        raise RuntimeError(f"migration left {len(broken)} broken reference(s), e.g. {broken[0]}")


async def current_revision(db: Database) -> str | None:
    """Return the revision the database is at, or None if it was never migrated."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)
