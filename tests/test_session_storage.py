"""Session queries on SQLite and PostgreSQL: one active session, atomic moves, due timers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from bot.coaching.catalogue import load_catalogue
from bot.coaching.session import Plan, build_plan
from storage import repositories as repo
from storage import sessions as store
from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import make_user

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
PLAN = build_plan(load_catalogue(), "upper", 2, "green")


async def start(db: Database, user_id: int = 1, plan: Plan = PLAN) -> int:
    """Register a user and start a session of `plan` (by default upper body); return its id."""
    await make_user(db, user_id)
    async with db.write() as session:
        row = await store.create_session(
            session,
            user_id=user_id,
            routine_key=plan.routine,
            rounds=plan.rounds,
            band=plan.band,
            plan=plan.to_json(),
            now=T0,
        )
        assert row is not None
        return row.id


async def test_only_one_active_session_per_user(db: Database) -> None:
    sid = await start(db)
    async with db.write() as session:
        again = await store.create_session(
            session,
            user_id=1,
            routine_key="lower",
            rounds=2,
            band="green",
            plan=PLAN.to_json(),
            now=T0,
        )
    assert again is None
    async with db.read() as session:
        active = await store.active_session(session, 1)
        assert active is not None and active.id == sid and active.started_at == T0
        assert await store.last_routine(session, 1) == "upper"


async def test_concurrent_moves_from_the_same_state_have_one_winner(db: Database) -> None:
    sid = await start(db)

    async def tap() -> bool:
        async with db.write() as session:
            return await store.move(session, sid, position=0, phase="step", new_position=1, now=T0)

    results = await asyncio.gather(*(tap() for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]
    async with db.read() as session:
        row = await store.get_session(session, sid)
        assert row is not None and row.position == 1


async def test_due_timers_are_claimed_once(db: Database) -> None:
    sid = await start(db)
    due = T0 + timedelta(seconds=5)
    async with db.write() as session:
        assert await store.move(
            session, sid, position=0, phase="step", new_phase="rest:5", timer_due_at=due, now=T0
        )
    async with db.write() as session:
        assert await store.claim_due_timers(session, due - timedelta(seconds=1), 10) == []
    async with db.read() as session:
        assert not await store.any_due_timer(session, due - timedelta(seconds=1))
        assert await store.any_due_timer(session, due)

    async def claim() -> list[int]:
        """Claim the due timers and move each off its timer before committing."""
        async with db.write() as session:
            found = await store.claim_due_timers(session, due, 10)
            await asyncio.sleep(0)  # the other claimant runs meanwhile
            moves = [store.TimerMove(row.id, row.position, row.phase, due, "step", None)
                     for row in found]  # fmt: skip
            await store.move_timers(session, moves, due)
            return [row.chat_id for row in found]

    assert sorted(await asyncio.gather(claim(), claim())) == [[], [1]]
    async with db.read() as session:
        row = await store.get_session(session, sid)
        assert row is not None and (row.phase, row.timer_due_at) == ("step", None)
    async with db.write() as session:
        assert not await store.move(
            session, sid, position=0, phase="rest:5", new_phase="rest:10",
            timer_due_at=due + timedelta(seconds=5), expected_due=due, now=due,
        )  # fmt: skip


async def test_idle_sessions_are_abandoned_and_keep_their_sets(db: Database) -> None:
    sid = await start(db)
    step = PLAN.steps[0]
    async with db.write() as session:
        await store.log_set(
            session,
            session_id=sid,
            position=0,
            round_no=1,
            step_no=1,
            exercise_key=step.exercise,
            side=None,
            unit=step.unit,
            target=10,
            actual=10,
            outcome="done",
            band="green",
            now=T0,
        )
    async with db.write() as session:
        assert await store.abandon_idle(session, T0 - timedelta(minutes=1), T0) == 0
        assert await store.abandon_idle(session, T0 + timedelta(hours=2), T0) == 1
    async with db.read() as session:
        row = await store.get_session(session, sid)
        assert row is not None and row.status == "abandoned" and row.ended_at == T0
        assert [s.actual for s in await store.sets_of(session, sid)] == [10]
        assert await store.active_session(session, 1) is None


async def test_clearing_awaiting_leaves_other_features_alone(db: Database) -> None:
    sid = await start(db)
    for value, expected in [
        (f"count:{sid}:3", None),
        (f"session:{sid}", None),
        ("reminder_time", "reminder_time"),
        (f"count:{sid + 1}:3", f"count:{sid + 1}:3"),
        (f"count:{sid}:2", f"count:{sid}:2"),  # a count for another position is not this one
    ]:
        async with db.write() as session:
            await repo.set_awaiting(session, 1, value)
            await store.clear_session_awaiting(session, 1, sid, 3)
        async with db.read() as session:
            user = await repo.get_user(session, 1)
            assert user is not None
            await session.refresh(user)
            assert user.awaiting == expected


async def test_a_sessions_plan_is_read_once_per_database(db: Database, tmp_path: Path) -> None:
    other = Database(f"sqlite+aiosqlite:///{tmp_path / 'other.sqlite3'}")
    await upgrade(other)
    lower = build_plan(load_catalogue(), "lower", 3, "yellow")
    try:
        ids = await start(db), await start(other, plan=lower)
        assert ids == (1, 1)  # the same id in two databases
        reads: list[str] = []
        event.listen(db.engine.sync_engine, "before_cursor_execute",
                     lambda *args: reads.append(args[2]))  # fmt: skip
        for _ in range(2):
            async with db.read() as session:
                row = await store.session_snapshot(session, 1)
            assert row is not None and row.plan == PLAN.to_json()
        assert sum(sql.startswith("SELECT CAST(") for sql in reads) == 1  # the plan, once
        async with other.read() as session:
            row = await store.session_snapshot(session, 1)
        assert row is not None and row.plan == lower.to_json()
    finally:
        await other.dispose()
