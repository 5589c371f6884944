"""The next-morning check: when it is asked, once, and what "worse" undoes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.coaching import morning as m
from bot.coaching import progression as p
from bot.coaching.schedule import Action
from bot.context import BandCoachApp
from bot.fake_telegram import FakeTelegram, FakeUser
from bot.reminders import dispatch_due
from storage.db import Database
from storage.models import ReminderSlot
from tests.flows import (
    CAT,
    add_bands,
    check_in,
    checkins,
    current,
    finish,
    onboard,
    sent_texts,
    start,
)

QUESTION_START = "🌅 Good morning!"


@pytest.mark.parametrize(
    ("session_start", "zone", "at", "due"),
    [
        # A plain UTC day, reminders off: 09:00 the next day.
        (datetime(2026, 11, 23, 6, 0, tzinfo=UTC), "UTC", None, datetime(2026, 11, 24, 9, 0)),
        # Late in the local evening: the next local day, not the next UTC day.
        (datetime(2026, 11, 23, 23, 30, tzinfo=UTC), "Europe/Berlin", None,
         datetime(2026, 11, 25, 8, 0)),
        # Berlin leaves summer time overnight: 07:00 CET is 06:00 UTC, not 05:00.
        (datetime(2026, 10, 24, 16, 0, tzinfo=UTC), "Europe/Berlin", time(7, 0),
         datetime(2026, 10, 25, 6, 0)),
        # New York enters summer time overnight: 07:30 EDT is 11:30 UTC.
        (datetime(2026, 3, 7, 22, 0, tzinfo=UTC), "America/New_York", time(7, 30),
         datetime(2026, 3, 8, 11, 30)),
    ],
)  # fmt: skip
def test_the_question_is_due_the_next_local_morning_across_daylight_saving(
    session_start: datetime, zone: str, at: time | None, due: datetime
) -> None:
    assert m.morning_due(session_start, zone, at) == due.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("active", "late", "needed", "answered", "action"),
    [
        (True, 0, True, False, Action.SEND),
        (False, 0, True, False, Action.INACTIVE),
        (True, 2, True, False, Action.STALE),
        (True, 0, True, True, Action.ANSWERED),
        (True, 0, False, False, Action.NOT_NEEDED),
    ],
)
def test_who_gets_the_question(
    active: bool, late: int, needed: bool, answered: bool, action: Action
) -> None:
    due = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert m.decide_morning(
        active=active, due_at=due, now=due + timedelta(hours=late), grace=timedelta(hours=1),
        needed=needed, answered=answered,
    ) == action  # fmt: skip


def test_worse_undoes_the_raise_then_deloads_one_step() -> None:
    before = p.prescription_for(CAT, "green")
    upper = before.routine("upper")
    raised = dict(before.routines)
    raised["upper"] = p.replace(
        upper, targets={k: 12 for k in upper.targets}, rest_between_moves=15
    )
    after, lines = m.undo_and_deload(CAT, p.Prescription(raised), before, "upper")
    rx = after.routine("upper")
    assert dict(rx.targets) == dict(upper.targets)  # back to 10
    assert (rx.band, rx.rest_between_moves) == ("yellow", upper.rest_between_moves)
    assert lines[0] == "In-fronts / behinds: 12 → 10 reps (undone)"
    assert lines[-1] == "Next session is a deload: band green → yellow"
    lower = after.routine("lower")  # one band per member: lighter everywhere, targets untouched
    assert (lower.band, lower.targets) == ("yellow", before.routine("lower").targets)


def test_worse_undoes_a_grown_hold() -> None:
    before = p.prescription_for(CAT, "yellow")
    glutes = before.routine("glutes_back")
    raised = {**before.routines, "glutes_back": p.replace(glutes, holds={"belly_leg_raises": 4})}
    after, lines = m.undo_and_deload(CAT, p.Prescription(raised), before, "glutes_back")
    assert after.routine("glutes_back").holds == {"belly_leg_raises": 3}
    assert "Belly leg raises: hold 4 → 3 s (undone)" in lines


async def question_count(fake: FakeTelegram, user: FakeUser) -> int:
    """Return how many next-morning questions the member got."""
    return len(sent_texts(fake, user, QUESTION_START))


async def test_the_question_comes_once_next_morning_and_worse_undoes_the_raise(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
    quiet_jobs: None,
) -> None:
    await onboard(user)  # reminders off: asked at 09:00
    await add_bands(user, "Yellow")  # so "worse" has a lighter band to go to
    await start(user, "upper")
    await finish(user)
    await check_in(user, 2, "Knees")  # mild pain away from the back: the plan climbs
    assert "Pull-aparts: 10 → 12 reps (all sets done, mild pain 2/10" in user.last_message().text
    clock.set(datetime(2026, 11, 24, 8, 59, tzinfo=UTC))
    await dispatch_due(app.bot_data, clock())
    assert await question_count(fake, user) == 0
    for minutes in (1, 1, 30):
        clock.advance(timedelta(minutes=minutes))
        await dispatch_due(app.bot_data, clock())
    assert await question_count(fake, user) == 1
    question = user.last_message()
    assert question.text == (
        "🌅 Good morning! After your Upper-body activation warm-up of Mon 23 Nov, how does your "
        "back feel today?"
    )
    await user.tap(m.LABELS[m.WORSE])
    assert user.last_answer() == "Saved ✓"
    edited = fake.find_message(user.chat_id, question.message_id)
    assert edited.text.startswith(m.WORSE_HEAD) and "Pull-aparts: 12 → 10 reps (undone)" in (
        edited.text
    )
    await user.tap_data(f"mo:{(await current(app_db, user.user_id)).id}:w", question.message_id)
    assert user.last_answer() == m.ALREADY
    await user.send("/plan")
    plan = user.last_message().text
    assert "Upper-body activation · yellow band" in plan and "• Pull-aparts: 10 reps" in plan
    [row] = await checkins(app_db)
    assert row.morning == m.WORSE


async def test_as_usual_changes_nothing_and_strangers_cannot_answer(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
    quiet_jobs: None,
) -> None:
    await onboard(user)
    await start(user, "upper")
    await finish(user)
    await check_in(user, 0)
    await user.send("/plan")
    plan = user.last_message().text
    clock.set(datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC))
    await dispatch_due(app.bot_data, clock())
    sid = (await current(app_db, user.user_id)).id
    mallory = fake.user(777, first_name="Mallory")
    await onboard(mallory)
    await mallory.tap_data(f"mo:{sid}:w")
    assert mallory.last_answer() == m.NOT_YOURS
    await user.tap(m.LABELS[m.USUAL])
    assert user.last_message().text == m.THANKS[m.USUAL]
    await user.send("/plan")
    assert user.last_message().text == plan


async def test_no_question_after_a_session_without_pain_or_raise_nor_for_a_blocked_member(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
    quiet_jobs: None,
) -> None:
    await onboard(user, schedule="Mon · Wed · Fri at 07:00", zone="Europe/Berlin")
    await start(user, "upper")
    await user.tap("⏹ Stop")  # nothing done, nothing raised
    await check_in(user, 0)
    assert "I'll ask how your back feels" not in user.last_message().text
    other = fake.user(4242, first_name="Kim")
    await onboard(other, schedule="Mon · Wed · Fri at 07:00", zone="Europe/Berlin")
    await start(other, "upper")
    await finish(other)
    await check_in(other, 1, "Hips")
    assert "🌅 On Tue 24 Nov at 07:00" in other.last_message().text  # their reminder time
    fake.block_user(other.chat_id)
    await other.send("/help")  # the 403 marks the member inactive
    clock.set(datetime(2026, 11, 24, 6, 0, 30, tzinfo=UTC))  # 07:00 in Berlin
    await dispatch_due(app.bot_data, clock())
    assert await question_count(fake, user) == await question_count(fake, other) == 0
    async with app_db.read() as session:
        slots = (
            await session.execute(select(ReminderSlot.detail).where(ReminderSlot.kind == "morning"))
        ).all()
    assert [s.detail for s in slots] == ["inactive"]
