"""Alembic migrations agree with the models and apply cleanly on both databases."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.migrate import alembic_config, current_revision, head_revision, upgrade
from storage.models import Base

TABLES = {
    "users",
    "reminder_settings",
    "workout_sessions",
    "session_sets",
    "pain_checkins",
    "reminder_slots",
    "prescriptions",
    "live_messages",
    "alembic_version",
}


def _diff(conn: Connection) -> list[object]:
    """Return what autogenerate would change to make the database match the models."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_autogenerate_finds_no_difference(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert await upgrade(db) == head_revision()
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables == TABLES
    finally:
        await db.dispose()


async def test_upgrade_is_idempotent_and_reversible(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert await current_revision(db) is None
        await upgrade(db)
        await upgrade(db)
        assert await current_revision(db) == head_revision()

        def downgrade(conn: Connection) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")

        async with db.write_engine.begin() as conn:
            await conn.run_sync(downgrade)
        async with db.engine.connect() as conn:
            left = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert left <= {"alembic_version"}
        await upgrade(db)
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()


async def test_two_processes_migrating_at_once_both_succeed(database_url: str) -> None:
    first, second = Database(database_url), Database(database_url)
    try:
        results = await asyncio.gather(upgrade(first), upgrade(second))
        assert results == [head_revision(), head_revision()]
    finally:
        await first.dispose()
        await second.dispose()
