"""Storage behaviour on SQLite and PostgreSQL: pragmas, time zones, constraints, repositories."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import repositories as repo
from storage.db import Database, frozen_json
from storage.migrate import upgrade
from storage.models import PainCheckin, ReminderSlot, SessionSet, User, WorkoutSession
from tests.conftest import make_user


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    """Yield a migrated SQLite database, for SQLite-only behaviour."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'only.sqlite3'}")
    await upgrade(database)
    yield database
    await database.dispose()


async def test_sqlite_is_tuned_for_concurrent_updates(sqlite_db: Database) -> None:
    db = sqlite_db
    async with db.read() as session:
        assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        # SQLite never sleeps in C (that would stall the event loop): the connection waits.
        assert (await session.execute(text("PRAGMA busy_timeout"))).scalar() == 0


async def test_a_lock_held_by_another_process_is_waited_out_without_stalling_the_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "held.sqlite3"
    db = Database(f"sqlite+aiosqlite:///{path}", busy_timeout=2.0)
    await upgrade(db)
    other = sqlite3.connect(path, isolation_level=None)  # another process's connection
    other.execute("BEGIN IMMEDIATE")
    beats = 0

    async def heartbeat() -> None:
        nonlocal beats
        while True:
            beats += 1
            await asyncio.sleep(0.01)

    async def release_soon() -> None:
        await asyncio.sleep(0.3)
        other.execute("COMMIT")

    beating = asyncio.create_task(heartbeat())
    releasing = asyncio.create_task(release_soon())
    await make_user(db)  # waits for the lock, then writes
    await releasing
    beating.cancel()
    assert beats >= 10  # the loop kept running while the write waited
    async with db.read() as session:
        assert await repo.get_user(session, 1) is not None
    other.execute("BEGIN IMMEDIATE")  # held for longer than the busy timeout
    quick = Database(f"sqlite+aiosqlite:///{path}", busy_timeout=0.2)
    with pytest.raises(OperationalError, match="locked"):
        async with quick.write() as session:
            await repo.set_awaiting(session, 1, None)
    other.execute("ROLLBACK")
    other.close()
    await quick.dispose()
    await db.dispose()


async def test_sqlite_writes_begin_immediately(sqlite_db: Database) -> None:
    db = sqlite_db

    statements: list[str] = []

    def seen(_conn: object, _cur: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        await make_user(db)
        async with db.read() as session:
            await repo.get_user(session, 1)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert statements[0] == "BEGIN IMMEDIATE"
    assert "BEGIN" in statements[1:] and statements.count("BEGIN IMMEDIATE") == 1


async def test_concurrent_writers_do_not_hit_database_locked(db: Database) -> None:
    async def bump(i: int) -> None:
        async with db.write() as session:
            await repo.advance_onboarding(session, 1, "goal", "goal", first_name=f"n{i}")

    await make_user(db)
    await asyncio.gather(*(bump(i) for i in range(20)))
    async with db.read() as session:
        user = await repo.get_user(session, 1)
    assert user is not None and user.first_name.startswith("n")


def test_frozen_json_decodes_each_distinct_text_once() -> None:
    text = '{"steps": [{"reps": 10}]}'
    same = "".join(['{"steps": ', '[{"reps": 10}]}'])  # equal text, another string object
    assert same is not text
    first = frozen_json(text)
    assert first == {"steps": [{"reps": 10}]}
    assert frozen_json(same) is first
    assert frozen_json('{"steps": [{"reps": 12}]}') == {"steps": [{"reps": 12}]}


async def test_datetimes_come_back_aware_utc(db: Database) -> None:
    await make_user(db)
    berlin = timezone(timedelta(hours=2))
    moment = datetime(2026, 3, 29, 3, 30, tzinfo=berlin)
    async with db.write() as session:
        user = await repo.get_user(session, 1)
        assert user is not None
        user.blocked_at = moment
    async with db.read() as session:
        user = await repo.get_user(session, 1)
    assert user is not None and user.blocked_at == moment
    assert user.blocked_at.tzinfo == UTC and user.blocked_at.hour == 1
    assert user.created_at.tzinfo == UTC


async def test_naive_datetimes_are_refused(db: Database) -> None:
    await make_user(db)
    with pytest.raises(Exception, match="aware datetime"):
        async with db.write() as session:
            user = await repo.get_user(session, 1)
            assert user is not None
            user.blocked_at = datetime(2026, 1, 1)
            await session.flush()


async def test_register_user_is_an_upsert(db: Database) -> None:
    async with db.write() as session:
        _, created = await repo.register_user(
            session, user_id=7, chat_id=7, first_name="A", timezone="UTC", first_step="goal"
        )
    assert created
    async with db.write() as session:
        await repo.mark_blocked(session, 7)
    async with db.write() as session:
        user, created = await repo.register_user(
            session,
            user_id=7,
            chat_id=70,
            first_name="B",
            timezone="Asia/Tokyo",
            first_step="goal",
        )
    assert not created
    async with db.read() as session:
        user = await repo.get_user(session, 7)
        assert user is not None
        assert (user.chat_id, user.first_name, user.is_active) == (70, "B", True)
        assert user.timezone == "UTC"  # an existing user's zone is not reset
        assert await repo.count_users(session) == 1


async def test_advance_onboarding_only_moves_from_the_expected_step(db: Database) -> None:
    await make_user(db)
    async with db.write() as session:
        assert await repo.advance_onboarding(session, 1, "goal", "band", goal="lift")
    async with db.write() as session:
        assert not await repo.advance_onboarding(session, 1, "goal", "band", goal="back")
    async with db.read() as session:
        user = await repo.get_user(session, 1)
    assert user is not None and user.goal == "lift" and user.onboarding_step == "band"


async def test_reminder_schedule_is_created_then_updated(db: Database) -> None:
    await make_user(db)
    async with db.write() as session:
        await repo.save_reminder_schedule(session, 1, days_mask=0b10101, at=time(7), enabled=True)
    async with db.write() as session:
        await repo.save_reminder_schedule(session, 1, days_mask=0b1, at=time(18, 30), enabled=False)
    async with db.read() as session:
        settings = await repo.get_reminder_settings(session, 1)
    assert settings is not None
    assert (settings.days_mask, settings.local_time, settings.enabled) == (1, time(18, 30), False)


async def test_a_set_cannot_be_logged_twice_for_one_position(db: Database) -> None:
    await make_user(db)
    async with db.write() as session:
        workout = WorkoutSession(user_id=1, routine_key="lower", rounds=2, band="green")
        session.add(workout)
        await session.flush()
        session_id = workout.id
    row = dict(
        session_id=session_id,
        position=0,
        round_no=1,
        step_no=1,
        exercise_key="lateral_walk",
        side="left",
        unit="steps",
        target=10,
        actual=10,
        outcome="done",
        band="green",
    )
    async with db.write() as session:
        session.add(SessionSet(**row))
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            session.add(SessionSet(**row))
    async with db.read() as session:
        count = len((await session.execute(select(SessionSet))).scalars().all())
    assert count == 1


async def test_a_reminder_slot_is_claimed_once(db: Database) -> None:
    await make_user(db)
    due = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    async with db.write() as session:
        session.add(ReminderSlot(user_id=1, kind="reminder", due_at=due))
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            session.add(ReminderSlot(user_id=1, kind="reminder", due_at=due))


@pytest.mark.parametrize("pain", [-1, 11])
async def test_pain_outside_0_to_10_is_refused(db: Database, pain: int) -> None:
    await make_user(db)
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            session.add(PainCheckin(user_id=1, pain=pain))


async def test_deleting_a_user_cascades(db: Database) -> None:
    await make_user(db)
    async with db.write() as session:
        await repo.save_reminder_schedule(session, 1, days_mask=1, at=time(7), enabled=True)
        session.add(PainCheckin(user_id=1, pain=2))
    async with db.write() as session:
        user = await session.get(User, 1)
        await session.delete(user)
    async with db.read() as session:
        assert (await session.execute(select(PainCheckin))).first() is None
        assert await repo.get_reminder_settings(session, 1) is None


async def test_a_new_member_registered_twice_at_once_is_created_once(db: Database) -> None:
    async def register() -> bool:
        async with db.write() as session:
            _, created = await repo.register_user(
                session, user_id=8, chat_id=8, first_name="A", timezone="UTC", first_step="goal"
            )
            await asyncio.sleep(0.05)  # hold the transaction open while the other one runs
            return created

    results = await asyncio.gather(*(register() for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    async with db.read() as session:
        count = (await session.execute(select(User).where(User.id == 8))).scalars().all()
    assert len(count) == 1


def test_the_test_postgres_lives_outside_pytests_shared_temp_tree(
    pg_server: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Another pytest run on the machine resets that tree to owner-only, which pgserver's own
    # user then cannot read: each run's server needs a folder of its own.
    home = Path(pg_server.pgdata).resolve()
    assert not home.is_relative_to(tmp_path_factory.getbasetemp().resolve())
    assert not any(part.startswith("pytest-of-") for part in home.parts)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_burst_of_transactions_keeps_its_connections_for_the_next(
    database_url: str,
) -> None:
    db, crowd = Database(database_url), 8
    opened: set[int] = set()

    async def burst() -> None:
        """Hold `crowd` read sessions open at once, each on its own connection."""
        all_in, release = asyncio.Barrier(crowd + 1), asyncio.Event()

        async def hold() -> None:
            async with db.read() as session:
                opened.add((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
                await all_in.wait()
                await release.wait()

        holders = [asyncio.create_task(hold()) for _ in range(crowd)]
        await all_in.wait()  # every holder has its connection
        release.set()
        await asyncio.gather(*holders)

    try:
        await burst()
        await burst()
        # SQLAlchemy's default keeps 5 of a burst's connections; the rest are closed, and the
        # next burst pays to open them (and prepare their statements) again.
        assert len(opened) == crowd
        assert db.engine.pool.checkedin() == crowd  # type: ignore[attr-defined]
    finally:
        await db.dispose()


async def test_a_deferred_write_that_fails_is_dropped_and_the_others_are_written(
    db: Database,
) -> None:
    await make_user(db)
    tried: list[object] = []

    async def broken(session: Any, items: list[object]) -> None:
        tried.extend(items)
        await session.execute(update(User).where(User.id == 1).values(chat_id=None))

    async def rename(session: Any, items: list[str]) -> None:
        await session.execute(update(User).where(User.id == 1).values(first_name=items[-1]))

    db.defer(broken, "bad")
    db.defer(rename, "Alex")
    db.defer(rename, "Sam Jr")  # the later item of one write comes last
    await db.flush_deferred()
    await db.flush_deferred()  # nothing left: the broken write is not tried again
    async with db.read() as session:
        assert await session.scalar(select(User.first_name).where(User.id == 1)) == "Sam Jr"
    assert tried == ["bad"]


async def test_deferred_writes_the_database_could_not_take_are_kept_for_the_next_flush(
    db: Database,
) -> None:
    await make_user(db)
    busy = [True]

    async def rename(session: Any, items: list[str]) -> None:
        if busy[0]:  # as a lock wait that ran out, or a deadlock, would end it
            raise OperationalError("UPDATE users", {}, Exception("database is locked"))
        await session.execute(update(User).where(User.id == 1).values(first_name=items[-1]))

    db.defer(rename, "Alex")
    with pytest.raises(OperationalError):
        await db.flush_deferred()
    busy[0] = False
    await db.flush_deferred()
    async with db.read() as session:
        assert await session.scalar(select(User.first_name).where(User.id == 1)) == "Alex"
