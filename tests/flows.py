"""Steps of a member's conversation that several test modules share."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.coaching import session_texts as t
from bot.coaching.catalogue import load_catalogue
from bot.context import BandCoachApp
from bot.fake_telegram import FakeTelegram, FakeUser
from bot.warmup_timers import fire_due_timers
from storage.db import Database
from storage.models import (
    ExerciseTarget,
    LiveMessage,
    PainCheckin,
    ReminderSettings,
    ReminderSlot,
    RoutinePlan,
    SessionSet,
    User,
    WorkoutSession,
)

CAT = load_catalogue()
GREEN = "✓ 🟢 Green (my band)"


async def onboard(
    user: FakeUser,
    goal: str = "Ease low-back discomfort",
    *,
    bands: Sequence[str] = ("Green",),
    schedule: str = "No reminders for now",
    zone: str = "UTC",
) -> None:
    """Finish onboarding owning a green band (no reminders and UTC unless told otherwise)."""
    await user.send("/start")
    await user.tap(goal)
    for band in bands:
        await user.tap(band)
    await user.tap("✅ Save my bands")
    await user.tap(schedule)
    await user.tap(zone)


SUGGESTED_2 = "✓ 2 rounds (suggested)"


async def add_bands(user: FakeUser, *bands: str) -> None:
    """Tick more bands the member owns in /settings → My bands, keeping everything else."""
    await user.send("/settings")
    await user.tap("🎨 My bands")
    for band in bands:
        await user.tap(band)
    await user.tap("✅ Save my bands")


SQUATS_ASKED = t.SQUATS_QUESTION.split("{routine}")[1][:20]


async def answer_squats(user: FakeUser, answer: str = t.SQUATS_YES) -> None:
    """Answer seed 004's squat question if the screen asks it (once, before band squats)."""
    if SQUATS_ASKED in user.last_message().text:
        await user.tap(answer)


async def start(user: FakeUser, routine: str, rounds: str | None = SUGGESTED_2) -> None:
    """Open /warmup and start a routine on the band ticked first."""
    await user.send("/warmup")
    await user.tap(CAT.routine(routine).name)
    await answer_squats(user)
    if rounds is not None:
        await user.tap(rounds)
    await user.tap(user.buttons()[0][0])


async def finish(user: FakeUser) -> None:
    """Tap Done on every step, skipping the rests, until the summary arrives."""
    while "Warm-up complete" not in user.last_message().text:
        rest = user.last_message().text.startswith("⏸ Rest")
        await user.tap(t.SKIP_REST_LABEL if rest else t.DONE_LABEL)


async def check_in(user: FakeUser, pain: int, *areas: str, side: str = "Same") -> None:
    """Answer the check-in on screen: pain, the areas (labels) and the weaker side."""
    await user.tap({0: "0 · none", 10: "10 · worst"}.get(pain, str(pain)))
    for area in areas:
        await user.tap(area)
    if areas:
        await user.tap("✅ That's all")
    await user.tap(side)


def sent_texts(fake: FakeTelegram, user: FakeUser, needle: str) -> list[str]:
    """Return every message sent to the user that contains `needle`."""
    return [
        str(c.params["text"])
        for c in fake.calls_to("sendMessage")
        if c.ok and c.params.get("chat_id") == user.chat_id and needle in str(c.params["text"])
    ]


async def checkins(db: Database) -> list[PainCheckin]:
    """Return every check-in."""
    async with db.read() as session:
        return list((await session.execute(select(PainCheckin))).scalars())


async def begin(user: FakeUser, routine: str, rounds: str | None = None) -> None:
    """Onboard, then start a routine on the green band."""
    await onboard(user)
    await user.send("/warmup")
    await user.tap(CAT.routine(routine).name)
    if CAT.routine(routine).choice is not None:
        await user.tap(t.GO_LABEL)  # the preselected moves
    await answer_squats(user)
    if rounds is not None:
        await user.tap(rounds)
    await user.tap(GREEN)


async def current(db: Database, user_id: int) -> WorkoutSession:
    """Return the user's newest session, whatever its status."""
    async with db.read() as session:
        row = (
            await session.execute(
                select(WorkoutSession)
                .where(WorkoutSession.user_id == user_id)
                .order_by(WorkoutSession.id.desc())
                .limit(1)
            )
        ).scalar_one()
        return row


async def logged(db: Database, session_id: int) -> list[SessionSet]:
    """Return the rows of the sets logged for a session, in plan order."""
    async with db.read() as session:
        result = await session.scalars(
            select(SessionSet)
            .where(SessionSet.session_id == session_id)
            .order_by(SessionSet.position)
        )
        return list(result)


async def tick(app: BandCoachApp, clock: ManualClock, seconds: float) -> None:
    """Move the clock and fire whatever timers are due, as the repeating job would."""
    clock.advance(seconds)
    await fire_due_timers(app.bot_data, clock())


def edits_of(fake: FakeTelegram, message_id: int) -> list[str]:
    """Return the texts the bot edited into one message, in order."""
    return [
        str(c.params["text"])
        for c in fake.calls_to("editMessageText")
        if c.ok and int(c.params["message_id"]) == message_id
    ]


def only_record(caplog: pytest.LogCaptureFixture, needle: str) -> logging.LogRecord:
    """Return the one log record whose message contains `needle` (failing if not exactly one)."""
    found = [r for r in caplog.records if needle in r.getMessage()]
    assert len(found) == 1, [r.getMessage() for r in found]
    return found[0]


async def rows_of(db: Database, user_ids: Sequence[int]) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row these members own, table by table, in a stable order, once every
    edit's record in flight is written (Database.defer writes them a moment later)."""
    await db.flush_deferred()
    ids = list(user_ids)
    sessions = select(WorkoutSession.id).where(WorkoutSession.user_id.in_(ids))
    queries = {
        "users": select(User.__table__).where(User.id.in_(ids)),
        "reminder_settings": select(ReminderSettings.__table__).where(
            ReminderSettings.user_id.in_(ids)
        ),
        "workout_sessions": select(WorkoutSession.__table__).where(WorkoutSession.user_id.in_(ids)),
        "session_sets": select(SessionSet.__table__).where(SessionSet.session_id.in_(sessions)),
        "pain_checkins": select(PainCheckin.__table__).where(PainCheckin.user_id.in_(ids)),
        "exercise_targets": select(ExerciseTarget.__table__).where(ExerciseTarget.user_id.in_(ids)),
        "routine_plans": select(RoutinePlan.__table__).where(RoutinePlan.user_id.in_(ids)),
        "reminder_slots": select(ReminderSlot.__table__).where(ReminderSlot.user_id.in_(ids)),
        "live_messages": select(LiveMessage.__table__).where(LiveMessage.user_id.in_(ids)),
    }
    async with db.read() as session:
        return {
            name: sorted((tuple(row) for row in (await session.execute(query)).all()), key=repr)
            for name, query in queries.items()
        }


SEEDED_MOVES = (("glute_bridge", "reps", None), ("lateral_walks", "steps", "left"))


async def seed_history(
    db: Database,
    user_id: int,
    first: datetime,
    *,
    weeks: int = 8,
    days: Sequence[int] = (0, 2, 4),
    zone: str = "UTC",
) -> list[int]:
    """Write `weeks` of finished sessions (Mon, Wed, Fri from `first`) with sets and check-ins.

    Targets climb one rep a session from 10 and the band goes from yellow to green half-way;
    every third check-in names the low back. Returns the session ids, oldest first.
    """
    ids: list[int] = []
    async with db.write() as session:
        for n, at in enumerate(
            first + timedelta(weeks=w, days=d) for w in range(weeks) for d in days
        ):
            band = "yellow" if n < weeks * len(days) // 2 else "green"
            row = WorkoutSession(
                user_id=user_id, routine_key="lower", rounds=1, band=band, timezone=zone,
                status="completed", plan={}, position=len(SEEDED_MOVES), started_at=at,
                updated_at=at, ended_at=at + timedelta(minutes=10),
            )  # fmt: skip
            session.add(row)
            await session.flush()
            for i, (move, unit, side) in enumerate(SEEDED_MOVES):
                session.add(
                    SessionSet(
                        session_id=row.id, position=i, round_no=1, step_no=i + 1,
                        exercise_key=move, side=side, unit=unit, target=10 + n % 6,
                        actual=10 + n % 6 - (i == 1 and n % 5 == 0), outcome="done",
                        band=band, logged_at=at + timedelta(minutes=2 + i),
                    )
                )  # fmt: skip
            session.add(
                PainCheckin(
                    user_id=user_id, session_id=row.id, pain=n % 4,
                    areas="low_back" if n % 3 == 0 and n % 4 else "",
                    weaker_side=("left", "right", "same")[n % 3], note=f"note {n}, with a comma",
                    created_at=at + timedelta(minutes=12), updated_at=at + timedelta(minutes=12),
                )
            )  # fmt: skip
            ids.append(row.id)
    return ids
