"""Alembic migrations agree with the models and apply cleanly on both databases."""

from __future__ import annotations

import asyncio
from datetime import datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.migrate import alembic_config, current_revision, head_revision, upgrade
from storage.models import Base

T = datetime(2026, 11, 23, 6, 0)
TABLES = {
    "users",
    "reminder_settings",
    "workout_sessions",
    "session_sets",
    "pain_checkins",
    "reminder_slots",
    "exercise_targets",
    "routine_plans",
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


async def test_plans_merge_into_shared_targets_keeping_the_safer_value_and_bands_are_owned(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, "0004")
        rows = [  # (routine, exercise, target, band): the routines disagree
            ("lower", "lateral_walks", 13, "blue"),
            ("lower", "foot_fire", 14, "blue"),
            ("quick", "lateral_walks", 12, "green"),
            ("upper", "pull_aparts", 15, "black"),
        ]
        async with db.write() as session:
            await session.execute(
                text("INSERT INTO users (id, chat_id, first_name, timezone, band, is_active, "
                     "created_at, updated_at) VALUES (7, 7, 'Ana', 'UTC', 'blue', true, :t, :t)"),
                {"t": T},
            )  # fmt: skip
            for routine, exercise, target, band in rows:
                await session.execute(
                    text("INSERT INTO prescriptions (user_id, routine_key, exercise_key, target, "
                         "band, rest_between_moves, rounds, extra_side, updated_at) "
                         "VALUES (7, :r, :e, :n, :b, 10, 3, 'left', :t)"),
                    {"r": routine, "e": exercise, "n": target, "b": band, "t": T},
                )  # fmt: skip
        assert await upgrade(db) == head_revision()
        async with db.read() as session:
            targets = dict((await session.execute(text(
                "SELECT exercise_key, target FROM exercise_targets WHERE user_id = 7"
            ))).all())  # fmt: skip
            band, owned = (
                await session.execute(text("SELECT plan_band, bands_owned FROM users WHERE id = 7"))
            ).one()
            plans = (await session.execute(text(
                "SELECT routine_key, rest_between_moves, rounds, extra_side FROM routine_plans "
                "WHERE user_id = 7 ORDER BY routine_key"
            ))).all()  # fmt: skip
        assert targets == {"lateral_walks": 12, "foot_fire": 14, "pull_aparts": 15}
        assert band == "green"  # the lightest band any routine had
        assert owned == 4  # asked for one band before: they own that one (blue)
        assert [tuple(p) for p in plans] == [
            ("lower", 10, 3, "left"), ("quick", 10, 3, "left"), ("upper", 10, 3, "left")
        ]  # fmt: skip
    finally:
        await db.dispose()


async def test_0008_keeps_every_row_and_ids_are_never_reused_after_a_deletion(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        await upgrade(db, "0007")
        async with db.write() as session:
            await session.execute(
                text("INSERT INTO users (id, chat_id, first_name, timezone, is_active, "
                     "created_at, updated_at) VALUES (7, 7, 'Ana', 'UTC', true, :t, :t)"),
                {"t": T},
            )  # fmt: skip
            for _ in range(2):
                await session.execute(
                    text("INSERT INTO workout_sessions (user_id, routine_key, rounds, status, "
                         "plan, position, phase, started_at, updated_at) "
                         "VALUES (7, 'lower', 1, 'completed', '{}', 1, 'step', :t, :t)"),
                    {"t": T},
                )  # fmt: skip
                sid = await session.scalar(text("SELECT max(id) FROM workout_sessions"))
                await session.execute(
                    text("INSERT INTO session_sets (session_id, position, round_no, step_no, "
                         "exercise_key, unit, target, actual, outcome, logged_at) "
                         "VALUES (:id, 0, 1, 1, 'glute_bridge', 'reps', 10, 10, 'done', :t)"),
                    {"id": sid, "t": T},
                )  # fmt: skip
            await session.execute(
                text("INSERT INTO pain_checkins (user_id, session_id, pain, areas, raised, "
                     "created_at, updated_at) VALUES (7, :id, 3, '', false, :t, :t)"),
                {"id": sid, "t": T},
            )  # fmt: skip
        assert await upgrade(db) == head_revision()
        count = "SELECT count(*) FROM {}"
        async with db.write() as session:
            kept = [
                await session.scalar(text(count.format(t)))
                for t in ("workout_sessions", "session_sets", "pain_checkins")
            ]
            assert kept == [2, 2, 1], "the rebuild cascaded into rows that reference it"
            await session.execute(text("DELETE FROM workout_sessions WHERE id = :id"), {"id": sid})
            await session.execute(
                text("INSERT INTO workout_sessions (user_id, routine_key, rounds, status, plan, "
                     "position, phase, started_at, updated_at) "
                     "VALUES (7, 'lower', 1, 'active', '{}', 0, 'step', :t, :t)"),
                {"t": T},
            )  # fmt: skip
            newest = await session.scalar(text("SELECT max(id) FROM workout_sessions"))
            key = await session.scalar(text("SELECT signup_key FROM users WHERE id = 7"))
        assert newest == sid + 1, "a deleted session's id went to a new one"
        assert key == 0
    finally:
        await db.dispose()
