"""Prescription and check-in queries on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.coaching import progression as p
from bot.coaching.catalogue import load_catalogue
from bot.coaching.session import build_plan
from storage import progress
from storage import repositories as repo
from storage import sessions as store
from storage.db import Database

CAT = load_catalogue()
T0 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
PLAN = build_plan(CAT, "upper", 2, "green")


async def register(db: Database, user_id: int = 1) -> None:
    """Register a user."""
    async with db.write() as session:
        await repo.register_user(
            session, user_id=user_id, chat_id=user_id, first_name="Sam", timezone="UTC",
            first_step="goal",
        )  # fmt: skip


async def finished_session(db: Database, user_id: int = 1, *, at: datetime = T0) -> int:
    """Start an upper-body session, log its first set and stop it; return its id."""
    async with db.write() as session:
        row = await store.create_session(
            session, user_id=user_id, routine_key="upper", rounds=2, band="green",
            plan=PLAN.to_json(), now=at,
        )  # fmt: skip
        assert row is not None
        await store.log_set(
            session, session_id=row.id, position=0, round_no=1, step_no=1,
            exercise_key="in_fronts_behinds", side=None, unit="reps", target=10, actual=10,
            outcome="done", band="green", now=at,
        )  # fmt: skip
        assert await store.end_session(session, row.id, status="stopped", now=at)
        return row.id


async def checkin(db: Database, sid: int, side: str | None, *, pain: int = 1) -> bool:
    """Record a check-in for a session; return whether it was created."""
    async with db.write() as session:
        return await progress.record_checkin(
            session, user_id=1, session_id=sid, pain=pain, areas="", weaker_side=side,
            base={"any": "thing"}, now=T0,
        )  # fmt: skip


async def test_a_user_without_rows_gets_the_catalogue_defaults(db: Database) -> None:
    await register(db)
    async with db.read() as session:
        loaded = await progress.load_prescription(session, 1, CAT, "blue")
    assert loaded == p.prescription_for(CAT, "blue")
    assert loaded.routine("upper").band == "blue"


async def test_saved_targets_and_band_are_shared_by_every_routine(db: Database) -> None:
    await register(db)
    base = p.prescription_for(CAT, "green")
    lower = replace(
        base.routine("lower"), band="blue", rest_between_moves=5, rounds=3,
        targets={**base.routine("lower").targets, "lateral_walks": 13}, extra_side="left",
    )  # fmt: skip
    async with db.write() as session:
        await progress.save_routines(
            session, 1, CAT, p.Prescription({**base.routines, "lower": lower}), ["lower"], T0
        )
    async with db.read() as session:
        loaded = await progress.load_prescription(session, 1, CAT, "green")
    assert loaded.routine("lower") == lower
    assert [loaded.routine(k).targets["lateral_walks"] for k in ("superset", "quick")] == [13, 13]
    assert loaded.routine("upper").band == "blue"  # one band per member…
    assert loaded.routine("hip_flexion").band == "green"  # …capped where a routine says so
    assert loaded.routine("superset").rest_between_moves == 20  # rests and rounds stay per routine
    lower = replace(lower, targets={**lower.targets, "lateral_walks": 12})
    async with db.write() as session:  # saving again replaces, never duplicates
        await progress.save_routines(
            session, 1, CAT, p.Prescription({"lower": lower}), ["lower"], T0
        )
    async with db.read() as session:
        again = await progress.load_prescription(session, 1, CAT, "green")
    assert again.routine("superset").targets["lateral_walks"] == 12


async def test_a_growing_hold_is_saved_with_its_target(db: Database) -> None:
    await register(db)
    base = p.prescription_for(CAT, "green")
    glutes = replace(base.routine("glutes_back"), holds={"belly_leg_raises": 5})
    async with db.write() as session:
        await progress.save_routines(
            session, 1, CAT, p.Prescription({**base.routines, "glutes_back": glutes}),
            ["glutes_back"], T0,
        )  # fmt: skip
    async with db.read() as session:
        loaded = await progress.load_prescription(session, 1, CAT, "green")
    assert loaded.routine("glutes_back") == glutes
    assert loaded.routine("glutes_back").load(CAT.exercise("belly_leg_raises")) == (6, 5)


async def test_the_first_answer_creates_and_later_ones_replace(db: Database) -> None:
    await register(db)
    sid = await finished_session(db)
    results = await asyncio.gather(*(checkin(db, sid, "left") for _ in range(3)))
    assert sorted(results) == [False, False, True]
    assert await checkin(db, sid, "right", pain=4) is False
    async with db.write() as session:
        assert await progress.save_note(session, 1, sid, "tight hips")
        assert not await progress.save_note(session, 2, sid, "not mine")
    async with db.read() as session:
        row = await progress.get_checkin(session, sid)
    assert row is not None
    assert (row.pain, row.weaker_side, row.note, row.base_prescription) == (
        4, "right", "tight hips", {"any": "thing"},
    )  # fmt: skip


async def test_open_session_is_the_newest_ended_one_after_the_last_check_in(
    db: Database,
) -> None:
    await register(db)
    async with db.read() as session:
        assert await progress.open_session(session, 1) is None
        assert await progress.open_session_id(session, 1) is None
    first = await finished_session(db)
    second = await finished_session(db, at=T0 + timedelta(hours=1))
    async with db.read() as session:
        found = await progress.open_session(session, 1)
        assert found is not None and found.id == second
        assert await progress.open_session_id(session, 1) == second
    await checkin(db, second, "left")
    async with db.read() as session:
        assert await progress.open_session(session, 1) is None  # the first is out of reach
        assert await progress.open_session_id(session, 1) is None
        assert await progress.newest_session_id(session, 1) == second != first
        assert await progress.last_trained(session, 1) == T0 + timedelta(hours=1)


async def test_side_history_is_oldest_first_without_the_current_session(db: Database) -> None:
    await register(db)
    sides = ["left", "right", None, "left"]
    ids = []
    for i, side in enumerate(sides):
        ids.append(await finished_session(db, at=T0 + timedelta(hours=i)))
        async with db.write() as session:
            await progress.record_checkin(
                session, user_id=1, session_id=ids[-1], pain=0, areas="", weaker_side=side,
                base={}, now=T0 + timedelta(hours=i),
            )  # fmt: skip
    async with db.read() as session:
        assert await progress.side_history(session, 1, ids[-1], 4) == ["left", "right", None]
        assert await progress.side_history(session, 1, -1, 2) == [None, "left"]
