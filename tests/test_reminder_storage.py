"""Reminder storage on SQLite and PostgreSQL: scheduling, due queries and atomic claims."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, text

from bot.coaching.schedule import Action
from storage import reminders as store
from storage import repositories as repo
from storage.blocking import block_chat
from storage.db import Database
from storage.models import ReminderSlot, WorkoutSession

MONDAY_0530 = datetime(2026, 11, 23, 5, 30, tzinfo=UTC)  # 06:30 in Berlin
GRACE = timedelta(minutes=60)


async def add_user(
    db: Database, user_id: int, zone: str = "Europe/Berlin", at: time = time(7)
) -> datetime | None:
    """Create an onboarded user with Mon/Wed/Fri reminders; return their next_due_at."""
    async with db.write() as session:
        await repo.register_user(
            session,
            user_id=user_id,
            chat_id=user_id,
            first_name="U",
            timezone=zone,
            first_step="goal",
        )
        await repo.save_reminder_schedule(
            session, user_id, days_mask=0b0010101, at=at, enabled=True
        )
        return await store.reschedule(session, user_id, MONDAY_0530)


async def slots(db: Database) -> list[ReminderSlot]:
    """Return every slot row."""
    async with db.read() as session:
        return list(
            (await session.execute(select(ReminderSlot).order_by(ReminderSlot.id))).scalars()
        )


async def test_reschedule_stores_the_next_local_slot(db: Database) -> None:
    assert await add_user(db, 1) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert await add_user(db, 2, "America/New_York") == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


async def test_a_batch_claims_only_due_members_oldest_first_up_to_the_limit(
    db: Database,
) -> None:
    for uid in range(1, 6):
        await add_user(db, uid, at=time(7, uid))
    async with db.write() as session:
        due = await store.claim_scheduled(
            session, datetime(2026, 11, 23, 6, 3, tzinfo=UTC), GRACE, 10
        )
    async with db.write() as session:
        limited = await store.claim_scheduled(
            session, datetime(2026, 11, 23, 7, tzinfo=UTC), GRACE, 1
        )
    assert [c.user_id for c in due[0]] == [1, 2, 3] and due[1] == 3
    assert [c.user_id for c in limited[0]] == [4] and limited[1] == 1


async def test_claim_advances_next_due_and_a_second_claim_loses(db: Database) -> None:
    due = await add_user(db, 1)
    assert due is not None
    now = due + timedelta(seconds=10)
    async with db.write() as session:
        [first], _ = await store.claim_scheduled(session, now, GRACE, 10)
    async with db.write() as session:
        second = await store.claim_scheduled(session, now, GRACE, 10)
    assert (first.action, first.due_at, second) == (Action.SEND, due, ([], 0))
    async with db.read() as session:
        settings = await repo.get_reminder_settings(session, 1)
    assert settings is not None
    assert settings.next_due_at == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert [(s.kind, s.due_at, s.status) for s in await slots(db)] == [("reminder", due, "claimed")]


async def test_the_unique_row_stops_a_claim_even_if_next_due_is_stale(db: Database) -> None:
    due = await add_user(db, 1)
    assert due is not None
    async with db.write() as session:
        assert await store.insert_slot(session, 1, "reminder", due, due, status="sent") is not None
        assert await store.insert_slot(session, 1, "reminder", due, due, status="sent") is None


async def test_two_databases_claiming_at_once_get_exactly_one_each_slot(
    database_url: str, db: Database
) -> None:
    for uid in range(1, 21):
        await add_user(db, uid)
    other = Database(database_url)
    try:
        now = datetime(2026, 11, 23, 6, 0, 5, tzinfo=UTC)

        async def claim_all(database: Database) -> list[int]:
            won: list[int] = []
            while True:  # small batches, so the two take turns
                async with database.write() as session:
                    claims, due = await store.claim_scheduled(session, now, GRACE, 3)
                won += [claim.user_id for claim in claims]
                if not due:
                    return won

        a, b = await asyncio.gather(claim_all(db), claim_all(other))
    finally:
        await other.dispose()
    assert sorted(a + b) == list(range(1, 21))
    assert len(await slots(db)) == 20


async def test_stale_slot_is_skipped_and_next_due_comes_from_now(db: Database) -> None:
    due = await add_user(db, 1)
    assert due is not None
    now = due + timedelta(days=2, hours=5)  # down from Monday to Wednesday noon
    async with db.write() as session:
        [claim], _ = await store.claim_scheduled(session, now, GRACE, 10)
    assert claim.action is Action.STALE
    async with db.read() as session:
        settings = await repo.get_reminder_settings(session, 1)
    assert settings is not None and settings.next_due_at == datetime(2026, 11, 27, 6, tzinfo=UTC)
    assert [(s.status, s.detail) for s in await slots(db)] == [("skipped", "stale")]


async def test_completed_session_that_local_day_skips_the_reminder(db: Database) -> None:
    due = await add_user(db, 1)
    assert due is not None
    async with db.write() as session:
        session.add(
            WorkoutSession(
                user_id=1,
                routine_key="any",
                status="completed",
                started_at=due - timedelta(hours=6),
                ended_at=due - timedelta(hours=5, minutes=50),
            )
        )
    async with db.write() as session:
        [claim], _ = await store.claim_scheduled(session, due, GRACE, 10)
    assert claim.action is Action.TRAINED


async def test_pending_slot_is_claimed_once(db: Database) -> None:
    due = await add_user(db, 1)
    assert due is not None
    async with db.write() as session:
        slot_id = await store.insert_slot(session, 1, "snooze", due, due, status="pending")
    assert slot_id is not None
    async with db.read() as session:
        assert await store.due_pending_slots(session, due - timedelta(seconds=1), 10) == []
        assert await store.due_pending_slots(session, due, 10) == [slot_id]
    async with db.write() as session:
        first = await store.claim_pending(session, slot_id, due, GRACE)
    async with db.write() as session:
        second = await store.claim_pending(session, slot_id, due, GRACE)
    assert first is not None and first.kind == "snooze" and second is None


async def test_blocked_user_stops_and_ensure_scheduled_restarts(db: Database) -> None:
    await add_user(db, 1)
    async with db.write() as session:
        assert await block_chat(session, 1, MONDAY_0530) is True
        assert await block_chat(session, 1, MONDAY_0530) is False  # already blocked: once
    async with db.read() as session:
        user, settings = (
            await repo.get_user(session, 1),
            await repo.get_reminder_settings(session, 1),
        )
    assert user is not None and not user.is_active
    assert settings is not None and settings.next_due_at is None
    async with db.write() as session:
        await repo.register_user(
            session, user_id=1, chat_id=1, first_name="U", timezone="UTC", first_step="goal"
        )
        await store.ensure_scheduled(session, 1, MONDAY_0530)
    async with db.read() as session:
        settings = await repo.get_reminder_settings(session, 1)
    assert settings is not None and settings.next_due_at == datetime(2026, 11, 23, 6, tzinfo=UTC)


async def test_due_pending_slots_are_found_through_the_partial_index(db: Database) -> None:
    # The status is in the SQL text, so the index over pending slots alone serves the query
    # (migration 0009), whatever plan a prepared statement gets.
    query = text(str(store._DUE_PENDING))  # the statement's own SQL, bound by name
    params = {"b_now": datetime(2026, 11, 23, 7), "b_limit": 10}
    async with db.write() as session:
        if db.is_sqlite:
            plan = (await session.execute(text(f"EXPLAIN QUERY PLAN {query}"), params)).all()
        else:
            await session.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table
            plan = (await session.execute(text(f"EXPLAIN {query}"), params)).all()
    assert "ix_reminder_slots_pending_due" in " ".join(str(row) for row in plan), plan
