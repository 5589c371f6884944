"""The pain check-in end to end: fake Telegram, the real app, both databases, a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from telegram import Update

from bot.app import build_application
from bot.clock import ManualClock
from bot.coaching import checkin_texts as ct
from bot.coaching import session_texts as t
from bot.coaching import texts
from bot.coaching.catalogue import load_catalogue
from bot.context import BandCoachApp
from bot.fake_telegram import FakeTelegram, FakeUser, fake_request
from bot.reminders import JOB_NAME, dispatch_due
from bot.warmup_timers import fire_due_timers
from storage.db import Database
from storage.models import LiveMessage, ReminderSlot, User
from tests.conftest import make_settings
from tests.flows import add_bands, checkins, current, finish, onboard, sent_texts, start

CAT = load_catalogue()
UPPER_UP = (
    "📋 Your next sessions:\n"
    "• In-fronts / behinds: 10 → 12 reps (all sets done, pain-free)\n"
    "• Pull-aparts: 10 → 12 reps (all sets done, pain-free)\n"
    "• Touchdowns: 10 → 12 reps (all sets done, pain-free)\n"
    "• Rest between moves: 20 → 15 s (complete session, pain-free; rest between rounds stays)\n"
    "\n"
    "📅 Next session: Wed 25 Nov. Aim for 3 sessions a week.\n"
    "🌅 On Tue 24 Nov at 09:00 I'll ask how your back feels that morning."
)


async def awaiting(db: Database, user_id: int) -> str | None:
    """Return what typed input the bot waits for."""
    async with db.read() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return user.awaiting


# ---------------------------------------------------------------- the main path


async def test_session_then_check_in_then_the_change_message_then_new_targets(
    user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await start(user, "upper")
    await finish(user)
    summary = user.last_message()
    assert "Warm-up complete" in summary.text and summary.text.endswith(ct.PAIN_QUESTION)
    assert user.buttons() == [
        ["0 · none", "1", "2", "3", "4", "5"],
        ["6", "7", "8", "9", "10 · worst"],
        [t.UNDO_LABEL],  # a wrong last Done can still be taken back
    ]
    await user.tap("0 · none")  # no pain: straight to the side
    edited = user.fake.find_message(user.chat_id, summary.message_id)
    assert "Warm-up complete" in edited.text
    assert edited.text.endswith("Pain 0/10. Which side felt weaker or more tired?")
    assert user.buttons() == [["⬅️ Left", "Right ➡️", "Same"]]
    await user.tap("Same")
    assert user.last_message().text == UPPER_UP
    saved = user.fake.find_message(user.chat_id, summary.message_id)
    assert saved.text.endswith(f"Check-in saved: pain 0/10 · sides the same.\n\n{ct.NOTE_PROMPT}")
    [row] = await checkins(app_db)
    session_row = await current(app_db, user.user_id)
    assert (row.session_id, row.pain, row.areas, row.weaker_side, row.note) == (
        session_row.id, 0, "", "same", None,
    )  # fmt: skip
    await user.tap(ct.NO_NOTE)
    assert await awaiting(app_db, user.user_id) is None

    await user.send("/plan")
    plan = user.last_message().text
    assert "Upper-body activation · green band · 2 rounds · rest 15 s between moves" in plan
    assert "• Pull-aparts: 12 reps" in plan

    await start(user, "upper")
    first_step = user.last_message().text
    assert "In-fronts / behinds" in first_step
    assert "12 reps each (in front and behind) · green band" in first_step
    await user.tap(t.DONE_LABEL)
    assert user.last_message().text.startswith("⏸ Rest: 15 s")


async def test_where_is_multi_select_and_low_back_pain_drops_the_band(
    user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await add_bands(user, "Yellow")  # so there is a lighter band to drop to
    await start(user, "upper")
    await finish(user)
    await user.tap("5")
    assert user.last_message().text.endswith(
        "Pain 5/10. Where do you feel it? Tick every place, then tap “That's all”."
    )
    assert all(ct.THATS_ALL not in row for row in user.buttons())  # nothing ticked yet
    await user.tap("Low back")
    await user.tap("Knees")
    await user.tap("Knees")  # untick
    assert user.buttons()[0] == ["✓ Low back"] and user.buttons()[2] == ["Knees"]
    await user.tap(ct.THATS_ALL)
    assert user.last_message().text.endswith(
        "Pain 5/10 · low back. Which side felt weaker or more tired?"
    )
    await user.tap("Left")
    change = user.last_message().text
    assert change.startswith(
        "📋 Your next sessions:\n• Band green → yellow: low-back discomfort means too much tension"
    )
    [row] = await checkins(app_db)
    assert (row.pain, row.areas, row.weaker_side) == (5, "low_back", "left")
    await user.send("Felt it on the way down from touchdowns")
    assert user.last_message().text == ct.NOTE_SAVED
    [row] = await checkins(app_db)
    assert row.note == "Felt it on the way down from touchdowns"
    await start(user, "upper")
    assert "10 reps each (in front and behind) · yellow band" in user.last_message().text


async def test_a_note_over_500_characters_is_refused_and_asked_again(
    user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await start(user, "upper")
    await finish(user)
    await user.tap("1")
    await user.tap("Shoulders")
    await user.tap(ct.THATS_ALL)
    await user.tap("Right")
    long = "tight " * 84  # 504 characters
    await user.send(long)
    assert user.last_message().text == ct.NOTE_TOO_LONG.format(length=len(long.strip()))
    [row] = await checkins(app_db)
    assert row.note is None
    assert (await awaiting(app_db, user.user_id) or "").startswith("ci_note:")
    await user.send("x" * 500)
    assert user.last_message().text == ct.NOTE_SAVED
    [row] = await checkins(app_db)
    assert row.note == "x" * 500
    await user.send("and one more thing")  # the note is saved: nothing is awaited any more
    assert user.last_message().text == texts.UNKNOWN_TEXT
    [row] = await checkins(app_db)
    assert row.note == "x" * 500


async def test_a_note_typed_after_twelve_hours_is_not_attached(
    user: FakeUser, app_db: Database, clock: ManualClock
) -> None:
    await onboard(user)
    await start(user, "upper")
    await finish(user)
    await user.tap("0 · none")
    await user.tap("Left")
    clock.advance(timedelta(hours=13))
    await user.send("forgot to say: knees felt fine")
    assert user.last_message().text == texts.UNKNOWN_TEXT
    [row] = await checkins(app_db)
    assert row.note is None
    assert await awaiting(app_db, user.user_id) is None


async def test_re_answering_within_12_hours_replaces_the_answer_and_recomputes(
    user: FakeUser, app_db: Database, clock: ManualClock
) -> None:
    await onboard(user)
    await start(user, "upper")
    await finish(user)
    first_keyboard = user.last_message()
    await user.tap("0 · none")
    await user.tap("Same")
    await user.tap(ct.NO_NOTE)
    clock.advance(timedelta(hours=11))
    await user.send("/checkin")
    assert user.last_message().text.startswith(
        "You already checked in on your Upper-body activation warm-up (pain 0/10)."
    )
    await user.tap("4")
    await user.tap("Hips")
    await user.tap(ct.THATS_ALL)
    await user.tap("Same")
    assert user.last_message().text == (
        "📋 Worked out again with your new answer:\n"
        "• Everything stays as it is: we hold while there is discomfort (pain 4/10)\n\n"
        "📅 Next session: Wed 25 Nov. Aim for 3 sessions a week.\n"
        "🌅 On Tue 24 Nov at 09:00 I'll ask how your back feels that morning."
    )
    [row] = await checkins(app_db)
    assert (row.pain, row.areas) == (4, "hips")
    await user.send("/plan")
    assert "• Pull-aparts: 10 reps" in user.last_message().text  # back to the base
    assert "rest 20 s between moves" in user.last_message().text

    clock.advance(timedelta(hours=2))  # 13 h after the first answer
    await user.send("/checkin")
    assert user.last_message().text == ct.NOTHING_TO_CHECK
    await user.tap("0 · none", message=first_keyboard)  # an old keyboard, long after
    assert user.last_answer() == ct.TOO_LATE
    [row] = await checkins(app_db)
    assert (row.pain, row.areas) == (4, "hips")


async def test_pain_of_six_or_more_gets_the_safety_message_and_a_deload(
    user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await add_bands(user, "Yellow")  # so there is a lighter band to drop to
    await start(user, "upper")
    await user.tap(t.DONE_LABEL)
    await user.tap(t.STOP_LABEL)
    summary = user.last_message().text
    assert "ended early" in summary and summary.endswith(ct.PAIN_QUESTION)
    await user.tap("8")
    await user.tap("Low back")
    await user.tap(ct.THATS_ALL)
    await user.tap("Same")
    assert user.last_message().text == (
        "📋 Your next sessions:\n"
        "• Next session is a deload: band green → yellow\n\n"
        f"{ct.SAFETY}\n\n{ct.NEXT_AFTER_PAIN}\n"
        "🌅 On Tue 24 Nov at 09:00 I'll ask how your back feels that morning."
    )
    await user.send("/plan")
    assert "Upper-body activation · yellow band" in user.last_message().text


async def test_a_check_in_left_half_way_still_counts(
    fake: FakeTelegram, user: FakeUser, app_db: Database, clock: ManualClock
) -> None:
    await onboard(user)
    await add_bands(user, "Yellow")  # so there is a lighter band to drop to
    await start(user, "upper")
    await user.tap(t.DONE_LABEL)
    await user.tap(t.STOP_LABEL)
    await user.tap("8")  # ... and the user puts the phone away
    [row] = await checkins(app_db)
    assert (row.pain, row.areas, row.weaker_side) == (8, "", None)
    await user.send("/plan")
    assert "Upper-body activation · yellow band" in user.last_message().text  # deloaded already
    await user.send("/checkin")  # later they finish it; it is their first full answer
    await user.tap("8")
    await user.tap("Low back")
    await user.tap(ct.THATS_ALL)
    [row] = await checkins(app_db)
    assert (row.pain, row.areas, row.weaker_side) == (8, "low_back", None)
    await user.tap("Left")
    assert user.last_message().text.startswith("📋 Your next sessions:")
    [row] = await checkins(app_db)
    assert (row.pain, row.areas, row.weaker_side) == (8, "low_back", "left")


async def test_a_re_answer_left_half_way_keeps_the_complete_answer(
    user: FakeUser, app_db: Database, clock: ManualClock
) -> None:
    await onboard(user)
    await start(user, "upper")
    await finish(user)
    await user.tap("3")
    await user.tap("Hips")
    await user.tap(ct.THATS_ALL)
    await user.tap("Right")
    clock.advance(timedelta(hours=1))
    await user.send("/checkin")
    await user.tap("9")  # a second thought, never finished
    [row] = await checkins(app_db)
    assert (row.pain, row.areas, row.weaker_side) == (3, "hips", "right")


async def test_the_change_message_names_the_next_reminder_when_reminders_are_on(
    user: FakeUser,
) -> None:
    await onboard(user, schedule="Mon · Wed · Fri at 07:00")
    await start(user, "upper")
    await finish(user)
    await user.tap("0 · none")
    await user.tap("Same")
    assert user.last_message().text.endswith(
        "📅 Next session: Mon 23 Nov at 07:00 (I'll nudge you).\n"
        "🌅 On Tue 24 Nov at 07:00 I'll ask how your back feels that morning."  # reminder time
    )


async def test_after_ten_days_off_the_session_restarts_one_rung_lower(
    user: FakeUser, clock: ManualClock
) -> None:
    await onboard(user)
    for _ in range(2):
        await start(user, "upper")
        await finish(user)
        await user.tap("0 · none")
        await user.tap("Same")
    clock.advance(timedelta(days=11))
    await start(user, "upper")
    # The start message sits above the first step, in the session's own message.
    starting, first_step = user.last_message().text.split("\n\nUpper-body activation · round")
    assert starting.endswith(
        "It's been 11 days since your last session, so we restart one rung lower\n"
        "• In-fronts / behinds: 13 → 12 reps (one rung lower)\n"
        "• Pull-aparts: 13 → 12 reps (one rung lower)\n"
        "• Touchdowns: 13 → 12 reps (one rung lower)"
    )
    assert "12 reps each (in front and behind)" in first_step
    await user.send("/plan")
    assert "• Pull-aparts: 12 reps" in user.last_message().text


# ---------------------------------------------------------------- bad taps


async def test_double_stale_and_forged_taps_change_nothing(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await start(user, "upper")
    running = await current(app_db, user.user_id)
    await user.tap_data(f"ci:{running.id}:p3")
    assert user.last_answer() == ct.FINISH_FIRST
    await finish(user)
    sid = running.id
    await user.tap("0 · none")
    side = user.button_data("Same")
    question = user.last_message()
    await asyncio.gather(*(user.tap_data(side, message_id=question.message_id) for _ in "ab"))
    both = [fake.callback_queries[q] for q in list(fake.callback_queries)[-2:]]
    assert sorted(str(q.text) for q in both) == [ct.ALREADY_SAVED, "None"]
    assert len(sent_texts(fake, user, "Your next sessions")) == 1
    for data in [
        "ci:abc",
        f"ci:{sid}:p11",
        f"ci:{sid}:t0.1",  # areas without pain
        f"ci:{sid}:d3.0",  # "that's all" with nothing ticked
        f"ci:{sid}:t3.64",
        f"ci:{sid}:s3.1.x",
    ]:
        await user.tap_data(data)
        assert user.last_answer() == ct.BAD_BUTTON, data
    await user.tap_data(f"ci:{sid + 99}:p3")
    assert user.last_answer() == ct.BAD_BUTTON
    mallory = fake.user(777, first_name="Mallory")
    await onboard(mallory)
    await mallory.tap_data(f"ci:{sid}:s9.1.l")
    assert mallory.last_answer() == ct.NOT_YOURS
    [row] = await checkins(app_db)
    assert (row.pain, row.weaker_side) == (0, "same")
    await mallory.send("/checkin")
    assert mallory.last_message().text == ct.NOTHING_TO_CHECK


async def test_a_forged_no_note_tap_changes_no_message_and_no_row(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    stranger = fake.user(2002, first_name="Stranger")
    await stranger.tap_data("ci:1:k")  # not a member: no live message may be written for them
    assert stranger.last_answer() == ct.BAD_BUTTON
    await onboard(user)
    await start(user, "upper")
    step = user.last_message()
    before = (step.text, step.buttons)
    for data in ("ci:999:k", f"ci:{(await current(app_db, user.user_id)).id}:k"):
        await user.tap_data(data, message_id=step.message_id)  # unknown, and still running
        assert user.last_answer() == ct.BAD_BUTTON, data
    after = fake.find_message(user.chat_id, step.message_id)
    assert (after.text, after.buttons) == before
    async with app_db.read() as session:
        keys = (await session.execute(select(LiveMessage.key))).scalars().all()
    assert not [key for key in keys if key.startswith("ci")]


async def test_checkin_applies_to_the_last_session_without_one(user: FakeUser) -> None:
    await onboard(user)
    await user.send("/checkin")
    assert user.last_message().text == ct.NOTHING_TO_CHECK
    await start(user, "upper")
    await user.tap(t.STOP_LABEL)
    await user.send("/checkin")
    assert user.last_message().text == (
        "Check-in for your Upper-body activation warm-up of Mon 23 Nov:\n\n" + ct.PAIN_QUESTION
    )
    await user.tap("2")
    await user.tap("Other")
    await user.tap(ct.THATS_ALL)
    await user.tap("Left")
    assert "Your next sessions" in user.last_message().text


# ---------------------------------------------------------------- left and right (seed 002)


async def test_a_side_weaker_three_times_adds_an_extra_set_on_that_side(user: FakeUser) -> None:
    await onboard(user)
    for _ in range(3):
        await start(user, "hip_flexion", rounds="1")
        await finish(user)
        await user.tap("0 · none")
        await user.tap("Left")
    assert (
        "• Your left side felt weaker in 3 of your last 3 check-ins: one extra set on the left "
        "for per-side exercises until the sides even out"
    ) in user.last_message().text
    await user.send("/plan")
    assert (
        "Band hip flexion · green band · 2 rounds · rest 5 s between moves\n"
        "➕ One extra set on the left for per-side moves\n"
        "• Band hip flexion: 13 reps each side"
    ) in user.last_message().text, user.last_message().text
    await start(user, "hip_flexion", rounds="1")
    await user.tap(t.DONE_LABEL)
    await user.tap(t.SKIP_REST_LABEL)
    assert "Band hip flexion · left leg lifts (extra set)" in user.last_message().text
    assert "step 2/3" in user.last_message().text


# ---------------------------------------------------------------- moves of the user's choice


async def start_quick(user: FakeUser, *toggles: str) -> None:
    """Open the quick warm-up, tap these moves in the picker, Go, and confirm the band."""
    await user.send("/warmup")
    await user.tap(CAT.routine("quick").name)
    for label in toggles:
        await user.tap(label)
    await user.tap(t.GO_LABEL)
    await user.tap(user.buttons()[0][0])


async def test_a_chosen_move_progresses_and_plan_shows_every_move_to_pick(
    user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await start_quick(user, "✓ Monster walks", "✓ Band squats", "Lateral walks")
    await finish(user)
    await user.tap("0 · none")
    await user.tap("Same")
    assert user.last_message().text == (
        "📋 Your next sessions:\n"
        "• Lateral walks: 10 → 12 steps (all sets done, pain-free)\n"
        "• Pull-aparts: 10 → 12 reps (all sets done, pain-free)\n"
        "\n"
        "📅 Next session: Wed 25 Nov. Aim for 3 sessions a week.\n"
        "🌅 On Tue 24 Nov at 09:00 I'll ask how your back feels that morning."
    )
    await user.send("/plan")
    assert (
        "Quick pre-lift warm-up · green band · 1 round · rest 0 s between moves\n"
        "You pick 2 or 3 of these moves:\n"
        "• Foot fire: 10 seconds each side\n"
        "• Lateral walks: 12 steps each side\n"
        "• Monster walks: 10 steps each (forward and back)\n"
        "• Diagonal walks: 10 steps each (forward and back)\n"
        "• Band squats: 10 reps\n"
        "• In-fronts / behinds: 10 reps each (in front and behind)\n"
        "• Pull-aparts: 12 reps\n"
        "• Touchdowns: 10 reps"
    ) in user.last_message().text, user.last_message().text
    # Next time the same pick is ticked, at the new targets; a move new to the pick starts at 10.
    await start_quick(user, "✓ Pull-aparts", "Diagonal walks")
    first = user.last_message().text
    assert "Lateral walks · left foot leads" in first and "12 steps · green band" in first
    await finish(user)
    row = await current(app_db, user.user_id)
    assert [(p["exercise"], p["side"], p["target"]) for p in row.plan["steps"]] == [
        ("lateral_walks", "left", 12),
        ("lateral_walks", "right", 12),
        ("diagonal_walks", None, 10),
    ]
    await user.tap("0 · none")
    await user.tap("Same")
    assert user.last_message().text.startswith(
        "📋 Your next sessions:\n"
        "• Lateral walks: 12 → 13 steps (all sets done, pain-free)\n"
        "• Diagonal walks: 10 → 12 steps (all sets done, pain-free)\n\n"
    )


# ---------------------------------------------------------------- the follow-up


async def followup_count(fake: FakeTelegram, user: FakeUser) -> int:
    """Return how many follow-ups the user got."""
    return len(sent_texts(fake, user, ct.FOLLOWUP.split("{", 1)[0]))


async def test_follow_up_is_sent_once_after_an_abandoned_session(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
    quiet_jobs: None,
) -> None:
    await onboard(user)  # reminders off: the follow-up does not depend on them
    await start(user, "upper")
    await user.tap(t.DONE_LABEL)
    clock.advance(timedelta(hours=2, seconds=30))
    await fire_due_timers(app.bot_data, clock())  # the idle sweep closes it as abandoned
    assert (await current(app_db, user.user_id)).status == "abandoned"
    await dispatch_due(app.bot_data, clock())
    assert await followup_count(fake, user) == 1
    message = user.last_message()
    assert message.text == (
        "👋 How did your back feel after your Upper-body activation warm-up of Mon 23 Nov?\n\n"
        + ct.PAIN_QUESTION
    )
    for hours in (0, 1, 5):
        clock.advance(timedelta(hours=hours))
        await dispatch_due(app.bot_data, clock())
    assert await followup_count(fake, user) == 1
    await user.tap("3", message=message)
    await user.tap("Knees")
    await user.tap(ct.THATS_ALL)
    await user.tap("Same")
    assert "Everything stays as it is" in user.last_message().text
    [row] = await checkins(app_db)
    assert row.pain == 3


async def test_no_follow_up_after_a_check_in_and_none_when_stale(
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
    await user.tap("0 · none")
    await user.tap("Same")
    clock.advance(timedelta(hours=2))
    await dispatch_due(app.bot_data, clock())
    await start(user, "upper")
    await user.tap(t.STOP_LABEL)
    clock.advance(timedelta(days=2))  # the bot was down far longer than the grace window
    await dispatch_due(app.bot_data, clock())
    assert await followup_count(fake, user) == 0
    async with app_db.read() as session:
        slots = (
            await session.execute(
                select(ReminderSlot.status, ReminderSlot.detail).where(
                    ReminderSlot.kind == "followup"
                )
            )
        ).all()
    assert sorted(slots) == [("skipped", "checked_in"), ("skipped", "stale")]


@asynccontextmanager
async def restarted(
    database_url: str, fake: FakeTelegram, clock: ManualClock, old: BandCoachApp
) -> AsyncIterator[BandCoachApp]:
    """Stop the old app's jobs and run a new Application on the same DB (jobs not started)."""
    assert old.job_queue is not None
    if old.job_queue.scheduler.running:
        old.job_queue.scheduler.pause()
    new = build_application(
        make_settings(database_url),
        request=fake_request(fake),
        get_updates_request=fake_request(fake),
        clock=clock,
    )

    async def deliver(data: dict[str, Any]) -> None:
        """Hand an update from the fake to the new Application."""
        await new.process_update(Update.de_json(data, new.bot))

    fake.on_update = deliver
    await new.initialize()
    assert new.post_init is not None
    await new.post_init(new)
    try:
        yield new
    finally:
        await new.shutdown()
        assert new.post_shutdown is not None
        await new.post_shutdown(new)


async def test_a_follow_up_due_during_downtime_is_sent_once_after_a_restart(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    clock: ManualClock,
    database_url: str,
) -> None:
    await onboard(user)
    await start(user, "upper")
    await finish(user)  # and no check-in
    clock.advance(timedelta(hours=2, minutes=20))  # due 20 minutes ago, within the grace
    async with restarted(database_url, fake, clock, app) as first:
        await dispatch_due(first.bot_data, clock())
    async with restarted(database_url, fake, clock, first) as second:
        assert second.job_queue is not None and second.job_queue.get_jobs_by_name(JOB_NAME)
        await dispatch_due(second.bot_data, clock())
        await dispatch_due(second.bot_data, clock() + timedelta(minutes=1))
    assert await followup_count(fake, user) == 1
