"""Guided warm-ups through the fake Telegram, on SQLite and PostgreSQL, with a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import warmup_timers
from bot.clock import ManualClock
from bot.coaching import checkin_texts as ct
from bot.coaching import session_texts as t
from bot.coaching import texts
from bot.coaching.session import Plan, build_plan
from bot.context import BandCoachApp
from bot.fake_telegram import FakeTelegram, FakeUser
from bot.warmup_timers import fire_due_timers
from storage.db import Database
from storage.models import LiveMessage, ReminderSlot, WorkoutSession
from tests.conftest import HandlerErrors, running_app
from tests.flows import (
    CAT,
    GREEN,
    SUGGESTED_2,
    begin,
    current,
    edits_of,
    logged,
    onboard,
    tick,
)

# ---------------------------------------------------------------- starting


async def test_warmup_needs_onboarding_first(user: FakeUser) -> None:
    await user.send("/warmup")
    assert user.last_message().text == t.NEED_ONBOARDING


async def test_routines_are_offered_with_the_suggestion_first(user: FakeUser) -> None:
    await onboard(user, goal="Warm up before lifting")
    await user.send("/warmup")
    assert user.last_message().text == t.CHOOSE_ROUTINE
    labels = [row[0] for row in user.buttons()]
    assert labels[:3] == [
        "⭐ Lower + upper superset",
        "Lower-body activation",
        "Upper-body activation",
    ]
    assert sorted(label.removeprefix("⭐ ") for label in labels) == sorted(
        r.name for r in CAT.routines.values()
    )


async def test_rounds_are_preselected_and_band_is_one_tap(user: FakeUser, app_db: Database) -> None:
    await onboard(user)
    await user.send("/warmup")
    await user.tap("Upper-body activation")
    assert user.buttons() == [["✓ 2 rounds (suggested)", "3 rounds", "4 rounds"]]
    await user.tap("4 rounds")
    assert "4 rounds. Which band are you using?" in user.last_message().text
    assert user.buttons()[0] == [GREEN]
    await user.tap(GREEN)
    row = await current(app_db, user.user_id)
    assert (row.routine_key, row.rounds, row.band, row.status) == ("upper", 4, "green", "active")
    text = user.last_message().text
    assert "Upper-body activation · round 1/4 · step 1/3" in text
    assert (
        "In-fronts / behinds" in text and "10 reps each (in front and behind) · green band" in text
    )
    assert user.buttons() == [["✅ Done", "➖ Fewer"], ["⏭ Skip", "⏹ Stop"]]


# ---------------------------------------------------------------- whole routines


async def test_band_squats_wait_until_bodyweight_squats_are_pain_free(
    user: FakeUser, app_db: Database, clock: ManualClock
) -> None:
    glutes = "Glutes for back relief"

    async def plan_after(answer: str | None) -> list[str]:
        """Start the glute routine (answering the squat question if given), then abandon it."""
        await user.send("/warmup")
        await user.tap(glutes)
        asked = user.last_message().text == t.SQUATS_QUESTION.format(routine=glutes)
        assert asked == (answer is not None)
        if answer is not None:
            await user.tap(answer)
        await user.tap(SUGGESTED_2)
        await user.tap(GREEN)
        intro = user.last_message().text
        row = await current(app_db, user.user_id)
        await user.send("/warmup")
        await user.tap(t.ABANDON)
        steps = [step.exercise for step in Plan.from_json(row.plan).steps]
        assert (t.SQUATS_LATER in intro) == ("band_squats" not in steps)
        return steps

    await onboard(user)
    not_yet = await plan_after(t.SQUATS_NOT_YET)
    assert "band_squats" not in not_yet and not_yet.count("glute_bridge") == 4  # 2 per round
    clock.advance(timedelta(days=6))
    assert await plan_after(None) == not_yet  # asked once a week at most
    clock.advance(timedelta(days=1))
    yes = await plan_after(t.SQUATS_YES)
    assert yes.count("band_squats") == 2 and yes.count("glute_bridge") == 2
    clock.advance(timedelta(days=30))
    assert await plan_after(None) == yes  # never asked again


async def test_the_quick_warmup_asks_about_squats_when_band_squats_are_picked(
    user: FakeUser,
) -> None:
    await onboard(user, goal="Warm up before lifting")
    await user.send("/warmup")
    await user.tap("Quick pre-lift warm-up")
    await user.tap(t.GO_LABEL)  # monster walks, band squats and pull-aparts are preselected
    assert user.last_message().text == t.SQUATS_QUESTION.format(routine="Quick pre-lift warm-up")
    await user.tap(t.SQUATS_NOT_YET)
    assert "Which band" in user.last_message().text  # one round only: straight to the band


@pytest.mark.parametrize("routine", list(CAT.routines))
async def test_every_routine_completes_and_logs_exactly_the_taps(
    routine: str, user: FakeUser, app_db: Database, app: BandCoachApp, clock: ManualClock
) -> None:
    rounds = CAT.routine(routine).rounds_allowed[0]
    choice = (
        None
        if len(CAT.routine(routine).round_choices) == 1
        else f"{rounds} {t.rounds_word(rounds)}"
    )
    if choice is not None and rounds == CAT.routine(routine).rounds:
        choice = f"✓ {rounds} {t.rounds_word(rounds)} (suggested)"
    await begin(user, routine, choice)
    plan = build_plan(CAT, routine, rounds, "green")
    expected = []
    for step in plan.steps:
        assert f"step {step.step_no}/{step.steps_in_round}" in user.last_message().text
        if step.position % 3 == 1:
            await user.tap(t.SKIP_LABEL)
            expected.append((step.exercise, step.side, step.target, 0, "skipped"))
        else:
            await user.tap(t.DONE_LABEL)
            expected.append((step.exercise, step.side, step.target, step.target, "done"))
        if step.rest_after and step.position < len(plan.steps) - 1:
            assert user.last_message().text.startswith("⏸ Rest")
            await tick(app, clock, step.rest_after)
    row = await current(app_db, user.user_id)
    assert row.status == "completed" and row.ended_at is not None
    sets = await logged(app_db, row.id)
    assert [(s.exercise_key, s.side, s.target, s.actual, s.outcome) for s in sets] == expected
    assert [(s.round_no, s.step_no) for s in sets] == [(p.round_no, p.step_no) for p in plan.steps]
    summary = user.last_message().text
    skipped = sum(1 for e in expected if e[4] == "skipped")
    assert "Warm-up complete!" in summary
    assert f"Sets done: {len(expected) - skipped} of {len(expected)}" in summary
    assert f"Skipped: {skipped}" in summary and "Band: green band" in summary


async def test_one_pass_advances_every_due_timer_however_many(
    fake: FakeTelegram, app: BandCoachApp, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warmup_timers, "TIMER_PAGE", 2)  # five rests: three pages in one pass
    members = [fake.user(100 + i, first_name=f"M{i}") for i in range(5)]
    for member in members:
        await begin(member, "upper", "✓ 2 rounds (suggested)")
        await member.tap(t.DONE_LABEL)
    clock.advance(25)  # every rest ended
    assert await fire_due_timers(app.bot_data, clock()) == 5
    for member in members:
        assert "Pull-aparts" in member.last_message().text, member.user_id


async def test_rest_counts_down_then_shows_the_next_step(
    fake: FakeTelegram, user: FakeUser, app: BandCoachApp, clock: ManualClock
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.DONE_LABEL)
    rest = user.last_message()
    assert rest.text.startswith("⏸ Rest: 20 s") and "Next: Pull-aparts" in rest.text
    assert user.buttons() == [[t.SKIP_REST_LABEL, t.STOP_LABEL], [t.UNDO_LABEL]]
    before = len(edits_of(fake, rest.message_id))
    await tick(app, clock, 4.9)
    assert edits_of(fake, rest.message_id)[before:] == []
    await tick(app, clock, 0.1)
    await tick(app, clock, 5)
    assert [e.split("\n")[0] for e in edits_of(fake, rest.message_id)[before:]] == [
        "⏸ Rest: 15 s",
        "⏸ Rest: 10 s",
    ]
    await tick(app, clock, 10)
    now_showing = user.last_message()
    assert now_showing.message_id == rest.message_id
    assert "Pull-aparts" in now_showing.text and "step 2/3" in now_showing.text
    assert user.buttons() == [["✅ Done", "➖ Fewer"], ["⏭ Skip", "⏹ Stop"], [t.UNDO_LABEL]]


async def test_skip_rest_moves_on_at_once(user: FakeUser, app_db: Database) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.DONE_LABEL)
    await user.tap(t.SKIP_REST_LABEL)
    assert "Pull-aparts" in user.last_message().text
    row = await current(app_db, user.user_id)
    assert (row.position, row.phase, row.timer_due_at) == (1, "step", None)


# ---------------------------------------------------------------- the quick warm-up: picking moves

PICKER = [
    ["Foot fire", "Lateral walks"],
    ["✓ Monster walks", "Diagonal walks"],
    ["✓ Band squats", "In-fronts / behinds"],
    ["✓ Pull-aparts", "Touchdowns"],
    [t.GO_LABEL],
]


async def open_picker(user: FakeUser) -> None:
    """Onboard, then open the quick warm-up's move picker."""
    await onboard(user, goal="Warm up before lifting")
    await user.send("/warmup")
    await user.tap("Quick pre-lift warm-up")


async def sessions_of(db: Database, user_id: int) -> list[WorkoutSession]:
    """Return every session of a user."""
    async with db.read() as session:
        rows = await session.execute(
            select(WorkoutSession).where(WorkoutSession.user_id == user_id)
        )
        return list(rows.scalars())


async def test_quick_warmup_offers_its_moves_with_the_defaults_ticked(user: FakeUser) -> None:
    await open_picker(user)
    assert user.last_message().text == (
        "Quick pre-lift warm-up: which moves today? Tick 2 or 3, one set of each, then tap Go."
        "\n\nTicked: Monster walks, Band squats and Pull-aparts."
    )
    assert user.buttons() == PICKER
    assert all(len(user.button_data(label).encode()) <= 64 for row in PICKER for label in row)


async def test_pick_two_moves_and_the_logged_sets_match_exactly(
    user: FakeUser, app_db: Database
) -> None:
    await open_picker(user)
    picker = user.last_message()
    await user.tap("✓ Monster walks")
    await user.tap("✓ Band squats")
    await user.tap("Touchdowns")
    await user.tap("✓ Pull-aparts")
    await user.tap("Lateral walks")
    assert user.last_message().message_id == picker.message_id  # edited in place
    assert user.last_message().text.endswith("Ticked: Lateral walks and Touchdowns.")
    assert user.buttons()[0] == ["Foot fire", "✓ Lateral walks"]
    await user.tap(t.GO_LABEL)
    assert user.last_message().text == (
        "Quick pre-lift warm-up · Lateral walks and Touchdowns · 1 round. Which band are you using?"
    )
    await user.tap(GREEN)
    row = await current(app_db, user.user_id)
    assert (row.routine_key, row.rounds, row.band) == ("quick", 1, "green")
    assert [(p["exercise"], p["side"], p["target"]) for p in row.plan["steps"]] == [
        ("lateral_walks", "left", 10),
        ("lateral_walks", "right", 10),
        ("touchdowns", None, 10),
    ]
    assert "Lateral walks · left foot leads" in user.last_message().text
    assert "step 1/3" in user.last_message().text
    await user.tap(t.DONE_LABEL)
    # No rest in the quick one:
    assert "Lateral walks · right foot leads" in user.last_message().text
    await user.tap(t.FEWER_LABEL)
    await user.tap("8")
    await user.tap(t.SKIP_LABEL)
    sets = await logged(app_db, row.id)
    assert [(s.exercise_key, s.side, s.target, s.actual, s.outcome) for s in sets] == [
        ("lateral_walks", "left", 10, 10, "done"),
        ("lateral_walks", "right", 10, 8, "fewer"),
        ("touchdowns", None, 10, 0, "skipped"),
    ]
    summary = user.last_message().text
    assert "Warm-up complete!" in summary and "Sets done: 2 of 3 (1 with fewer" in summary
    assert "Total: 18 steps" in summary
    # The next quick warm-up starts from this pick.
    await user.send("/warmup")
    await user.tap("Quick pre-lift warm-up")
    assert user.last_message().text.endswith("Ticked: Lateral walks and Touchdowns.")
    assert user.buttons()[3] == ["Pull-aparts", "✓ Touchdowns"]


async def test_go_with_too_few_or_too_many_moves_says_how_many(
    user: FakeUser, app_db: Database
) -> None:
    await open_picker(user)
    await user.tap("✓ Monster walks")
    await user.tap("✓ Band squats")
    await user.tap(t.GO_LABEL)
    assert user.last_answer() == "Tick 2 or 3 moves, then tap Go (you have 1 ticked)."
    assert user.buttons()[-1] == [t.GO_LABEL] and user.last_message().text.endswith(
        "Ticked: Pull-aparts."
    )
    for label in ("Foot fire", "Lateral walks", "Touchdowns"):
        await user.tap(label)
    await user.tap(t.GO_LABEL)
    assert user.last_answer() == "Tick 2 or 3 moves, then tap Go (you have 4 ticked)."
    await user.tap("✓ Pull-aparts")
    await user.tap("✓ Touchdowns")
    await user.tap("✓ Foot fire")
    await user.tap("✓ Lateral walks")
    await user.tap(t.GO_LABEL)
    assert user.last_answer() == "Tick 2 or 3 moves, then tap Go (you have 0 ticked)."
    assert user.last_message().text.endswith("Nothing ticked yet.")
    assert await sessions_of(app_db, user.user_id) == []


async def test_forged_move_masks_are_refused_and_change_nothing(
    user: FakeUser, app_db: Database
) -> None:
    await open_picker(user)
    picker = user.last_message()
    shown = (picker.text, user.buttons())
    for data in [
        "wu:m:quick:256",  # a bit past the eight moves
        "wu:g:quick:4096",
        "wu:g:quick:-3",
        "wu:g:quick:007",
        "wu:g:quick:²",
        "wu:g:quick",
        "wu:b:quick:1:green:64",  # one move
        "wu:b:quick:1:green:15",  # four moves
        "wu:b:quick:1:green",  # no moves
        "wu:b:quick:1:green:84:1",
        "wu:m:upper:3",  # upper has no choice of moves
        "wu:b:upper:2:green:3",
        "wu:n:upper:²",
    ]:
        await user.tap_data(data, message_id=picker.message_id)
        assert user.last_answer() == t.BAD_BUTTON, data
    assert (user.last_message().text, user.buttons()) == shown
    assert await sessions_of(app_db, user.user_id) == []


async def test_a_double_tap_on_a_move_changes_nothing_more(user: FakeUser) -> None:
    await open_picker(user)
    picker = user.last_message()
    toggle = user.button_data("Touchdowns")
    await user.tap_data(toggle, message_id=picker.message_id)
    await user.tap_data(toggle, message_id=picker.message_id)  # same mask: nothing to edit
    assert user.last_message().text.endswith(
        "Ticked: Monster walks, Band squats, Pull-aparts and Touchdowns."
    )


# ---------------------------------------------------------------- timed steps


async def test_timed_step_counts_down_with_paced_edits_then_logs(
    fake: FakeTelegram, user: FakeUser, app: BandCoachApp, app_db: Database, clock: ManualClock
) -> None:
    await begin(user, "lower", "✓ 2 rounds (suggested)")
    step_msg = user.last_message()
    assert "Foot fire · left foot moves" in step_msg.text
    assert "10 seconds · green band" in step_msg.text
    assert user.buttons()[0] == [t.START_TIMER_LABEL]
    before = len(edits_of(fake, step_msg.message_id))
    await user.tap(t.START_TIMER_LABEL)
    assert "⏱ Get ready: 3 s" in user.last_message().text
    shown = []
    for _ in range(30):
        await tick(app, clock, 1)
        texts_now = edits_of(fake, step_msg.message_id)
        shown.append(texts_now[-1].rsplit("\n", 1)[-1])
    seen = [x for i, x in enumerate(shown) if i == 0 or x != shown[i - 1]]
    assert seen[:8] == [
        "⏱ Get ready: 2 s",
        "⏱ Get ready: 1 s",
        "⏱ Go: 10 s",
        "⏱ Go: 5 s",
        "⏱ Go: 3 s",
        "⏱ Go: 2 s",
        "⏱ Go: 1 s",
        "Foot fire · left foot moves: ✅ 10 seconds",
    ]
    # Start + 7 ticks + the rest that follows, saying what was logged: never more than one
    # edit per second of time.
    edits = edits_of(fake, step_msg.message_id)[before:]
    logged_at = next(i for i, e in enumerate(edits) if e.endswith("✅ 10 seconds"))
    assert logged_at == 8 and edits[logged_at].startswith("⏸ Rest")
    row = await current(app_db, user.user_id)
    sets = await logged(app_db, row.id)
    assert [(s.exercise_key, s.side, s.actual, s.outcome) for s in sets] == [
        ("foot_fire", "left", 10, "done")
    ]
    assert row.position == 1


async def test_hold_step_counts_each_hold(
    fake: FakeTelegram, user: FakeUser, app: BandCoachApp, app_db: Database, clock: ManualClock
) -> None:
    await begin(user, "glutes_back", "✓ 2 rounds (suggested)")
    msg = user.last_message()
    assert "2 reps, hold 8 s each · no band" in msg.text
    await user.tap(t.START_TIMER_LABEL)
    await tick(app, clock, 3)
    assert edits_of(fake, msg.message_id)[-1].endswith("⏱ Hold 1/2: 8 s")
    await tick(app, clock, 8)
    assert edits_of(fake, msg.message_id)[-1].endswith("⏱ Relax: 3 s")
    await tick(app, clock, 3)
    assert edits_of(fake, msg.message_id)[-1].endswith("⏱ Hold 2/2: 8 s")
    await tick(app, clock, 8)
    row = await current(app_db, user.user_id)
    assert [(s.exercise_key, s.actual, s.unit) for s in await logged(app_db, row.id)] == [
        ("glute_squeeze", 2, "hold")
    ]
    assert "Slow squeeze build-ups" in user.last_message().text  # then 3-4 slow build-ups


# ---------------------------------------------------------------- Fewer, Skip, Stop


@pytest.mark.parametrize("bad", ["abc", "-3", "500", "7.5"])
async def test_fewer_refuses_bad_numbers_then_takes_a_typed_one(
    bad: str, user: FakeUser, app_db: Database
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.FEWER_LABEL)
    assert t.HOW_MANY in user.last_message().text
    assert user.buttons()[0] == ["0", "1", "2", "3", "4"] and user.buttons()[-1] == [t.BACK_LABEL]
    await user.send(bad)
    assert user.last_message().text == t.BAD_COUNT.format(text=bad)
    row = await current(app_db, user.user_id)
    assert await logged(app_db, row.id) == [] and row.phase == "fewer"
    await user.send("7")
    sets = await logged(app_db, row.id)
    assert [(s.target, s.actual, s.outcome) for s in sets] == [(10, 7, "fewer")]
    assert user.last_message().text.startswith("⏸ Rest")


async def test_more_than_the_target_after_fewer_is_logged_only_once_confirmed(
    user: FakeUser, app_db: Database
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.FEWER_LABEL)
    await user.send("15")
    row = await current(app_db, user.user_id)
    assert user.last_message().text == t.MORE_THAN_TARGET.format(count=15, target=10, top=9)
    assert await logged(app_db, row.id) == [] and row.phase == "fewer"
    confirm = user.last_message()
    await user.tap("✅ Log 15")
    sets = await logged(app_db, row.id)
    assert [(s.target, s.actual, s.outcome) for s in sets] == [(10, 15, "done")]
    await user.tap("✅ Log 15", message=confirm)  # a second tap logs nothing more
    assert user.last_answer() == t.STEP_DONE
    assert len(await logged(app_db, row.id)) == 1


async def test_undo_within_a_minute_takes_back_the_last_set_once_even_when_tapped_twice(
    user: FakeUser, app_db: Database, clock: ManualClock
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.DONE_LABEL)
    rest = user.last_message()
    undo = user.button_data(t.UNDO_LABEL)
    clock.advance(30)
    await asyncio.gather(*(user.tap_data(undo, message_id=rest.message_id) for _ in "ab"))
    answers = sorted(str(q.text) for q in list(user.fake.callback_queries.values())[-2:])
    assert answers == sorted([t.UNDONE_ALREADY, "↩ Undone: In-fronts / behinds, log it again"])
    row = await current(app_db, user.user_id)
    assert await logged(app_db, row.id) == [] and (row.position, row.phase) == (0, "step")
    step = user.last_message()
    assert "In-fronts / behinds" in step.text and [t.UNDO_LABEL] not in user.buttons()
    await user.tap(t.DONE_LABEL)
    assert [s.position for s in await logged(app_db, row.id)] == [0]


async def test_undo_after_a_minute_is_refused_and_changes_nothing(
    user: FakeUser, app_db: Database, clock: ManualClock
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.DONE_LABEL)
    await user.tap(t.SKIP_REST_LABEL)
    clock.advance(61)
    await user.tap(t.UNDO_LABEL)
    assert user.last_answer() == t.UNDO_TOO_LATE
    row = await current(app_db, user.user_id)
    assert [s.position for s in await logged(app_db, row.id)] == [0] and row.position == 1


async def test_undo_takes_back_a_stop_or_the_end_until_the_check_in_starts(
    user: FakeUser, app_db: Database
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.DONE_LABEL)
    await user.tap(t.SKIP_REST_LABEL)
    await user.tap(t.STOP_LABEL)
    await user.tap(t.UNDO_LABEL)
    assert user.last_answer() == t.UNDONE_STOP
    row = await current(app_db, user.user_id)
    assert (row.status, row.position, row.ended_at) == ("active", 1, None)
    async with app_db.read() as session:
        slots = (await session.execute(select(ReminderSlot.status, ReminderSlot.detail))).all()
    assert [tuple(s) for s in slots] == [("skipped", "undone")]  # no follow-up for a live one
    while "Warm-up complete" not in user.last_message().text:
        rest = user.last_message().text.startswith("⏸ Rest")
        await user.tap(t.SKIP_REST_LABEL if rest else t.DONE_LABEL)
    await user.tap(t.UNDO_LABEL)  # the last Done, which ended the session
    row = await current(app_db, user.user_id)
    assert (row.status, row.position) == ("active", 5) and len(await logged(app_db, row.id)) == 5
    await user.tap(t.DONE_LABEL)
    summary = user.last_message()
    await user.tap("3")  # the check-in has begun: the end stays
    await user.tap_data(f"ws:{row.id}:6:u", message_id=summary.message_id)
    assert user.last_answer() == t.UNDO_TOO_LATE
    assert (await current(app_db, user.user_id)).status == "completed"


async def test_fewer_by_tapping_a_number_and_back(user: FakeUser, app_db: Database) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.FEWER_LABEL)
    await user.tap(t.BACK_LABEL)
    assert t.HOW_MANY not in user.last_message().text
    await user.tap(t.FEWER_LABEL)
    picker = user.last_message()
    await user.tap("4")
    row = await current(app_db, user.user_id)
    sets = await logged(app_db, row.id)
    assert [(s.actual, s.outcome) for s in sets] == [(4, "fewer")]
    assert user.last_answer() == "In-fronts / behinds: ➖ 4 reps of 10"
    assert user.last_message().message_id == picker.message_id  # the step's message moved on
    assert user.last_message().text.startswith("⏸ Rest")
    await user.send("5")  # nothing is awaited now: a reminder of the buttons
    assert user.last_message().text == t.USE_BUTTONS
    assert len(await logged(app_db, row.id)) == 1


async def test_stop_ends_early_with_a_summary_and_the_pain_question(
    user: FakeUser, app_db: Database, app: BandCoachApp, clock: ManualClock
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.DONE_LABEL)
    await user.tap(t.SKIP_REST_LABEL)
    await user.tap(t.SKIP_LABEL)
    await tick(app, clock, 125)  # the rest ran out long ago: straight to the next step
    assert "Touchdowns" in user.last_message().text
    await user.tap(t.STOP_LABEL)
    row = await current(app_db, user.user_id)
    assert row.status == "stopped" and row.ended_at == clock()
    summary = user.last_message().text
    assert "ended early" in summary and summary.endswith(ct.PAIN_QUESTION)
    assert user.buttons()[0][0] == "0 · none" and user.buttons()[1][-1] == "10 · worst"
    assert "Time: 2 min 5 s" in summary and "Sets done: 1 of 6" in summary
    assert "Skipped: 1" in summary and "Total: 20 reps" in summary
    assert [(s.outcome, s.actual) for s in await logged(app_db, row.id)] == [
        ("done", 10),
        ("skipped", 0),
    ]
    await user.send("hello")
    assert user.last_message().text == texts.UNKNOWN_TEXT


# ---------------------------------------------------------------- bad taps


async def test_double_tap_on_done_logs_once(user: FakeUser, app_db: Database) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    step_msg = user.last_message()
    button = user.button_data(t.DONE_LABEL)
    await user.tap(t.DONE_LABEL)
    await user.tap_data(button, message_id=step_msg.message_id)
    assert user.last_answer() == t.STEP_DONE
    row = await current(app_db, user.user_id)
    assert len(await logged(app_db, row.id)) == 1 and row.position == 1


async def test_concurrent_taps_on_one_step_log_one_set(user: FakeUser, app_db: Database) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    step_msg = user.last_message()
    done, skip = user.button_data(t.DONE_LABEL), user.button_data(t.SKIP_LABEL)
    await asyncio.gather(
        *(user.tap_data(data, message_id=step_msg.message_id) for data in (done, done, skip))
    )
    row = await current(app_db, user.user_id)
    sets = await logged(app_db, row.id)
    assert len(sets) == 1 and sets[0].position == 0 and row.position == 1


async def test_forged_and_foreign_buttons_change_nothing(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    row = await current(app_db, user.user_id)
    for data, answer in [
        ("ws:abc", t.BAD_BUTTON),
        (f"ws:{row.id}:0:q", t.BAD_BUTTON),
        (f"ws:{row.id + 50}:0:d", t.BAD_BUTTON),
        (f"ws:{row.id}:4:d", t.NOT_NOW),
        (f"ws:{row.id}:0:r", t.NOT_NOW),  # no rest is running
        (f"ws:{row.id}:0:n5", t.NOT_NOW),  # no number was asked for
        (f"ws:{row.id}:3:u", t.UNDONE_ALREADY),  # an Undo past the step: nothing to take back
        ("wu:r:cartwheels", t.BAD_BUTTON),
        ("wu:n:upper:9", t.BAD_BUTTON),
        ("wu:b:upper:2:pink", t.BAD_BUTTON),
    ]:
        await user.tap_data(data)
        assert user.last_answer() == answer, data
    mallory = fake.user(777, first_name="Mallory")
    await onboard(mallory)
    await mallory.tap_data(f"ws:{row.id}:0:d")
    assert mallory.last_answer() == t.NOT_YOURS
    await mallory.tap_data(f"wu:abandon:{row.id}")
    assert mallory.last_answer() == t.SESSION_ENDED
    after = await current(app_db, user.user_id)
    assert (after.position, after.phase, after.status) == (0, "step", "active")
    assert await logged(app_db, row.id) == []


async def test_hip_flexion_offers_only_light_bands_and_says_where_the_band_goes(
    fake: FakeTelegram, app: BandCoachApp, app_db: Database
) -> None:
    user = fake.user(5150, first_name="Ria")
    await onboard(user, bands=("Blue",))
    await user.send("/warmup")
    await user.tap(CAT.routine("hip_flexion").name)
    await user.tap("✓ 2 rounds (suggested)")
    assert user.buttons() == [["✓ 🟢 Green (a light band for this move)"], ["🟡 Yellow"]]
    await user.tap_data("wu:b:hip_flexion:2:blue")
    assert user.last_answer() == t.BAD_BUTTON
    await user.tap("✓ 🟢 Green (a light band for this move)")
    step = user.last_message().text
    assert "💪 Band hip flexion · left leg lifts" in step and "10 reps · green band" in step
    assert "📍 Lie on your back, band around both feet" in step


async def test_setup_buttons_need_a_finished_onboarding(
    fake: FakeTelegram, app_db: Database
) -> None:
    stranger, newcomer = fake.user(2002, first_name="Stranger"), fake.user(2003, first_name="New")
    await newcomer.send("/start")
    for who in (stranger, newcomer):
        for data in ("wu:b:lower:2:green", "wu:r:lower", "wu:n:lower:2"):
            await who.tap_data(data)
            assert who.last_answer() == t.NEED_ONBOARDING, data
    async with app_db.read() as session:
        assert (await session.execute(select(WorkoutSession))).first() is None


async def test_a_stale_band_tap_gives_the_new_session_the_message_under_one_row(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await user.send("/warmup")
    await user.tap(CAT.routine("lower").name)
    await user.tap("✓ 2 rounds (suggested)")
    setup_msg = user.last_message()
    green = user.button_data(GREEN)
    await user.tap(GREEN)
    await user.tap(t.STOP_LABEL)
    await user.tap_data(green, message_id=setup_msg.message_id)  # starts a second session
    await user.tap(t.DONE_LABEL)
    second = await current(app_db, user.user_id)
    assert len(await logged(app_db, second.id)) == 1
    async with app_db.read() as session:
        rows = (await session.execute(select(LiveMessage))).scalars().all()
    shown = [row.key for row in rows if row.message_id == setup_msg.message_id]
    assert shown == [f"ws{second.id}"]


async def test_buttons_of_a_finished_session_say_it_ended(user: FakeUser, app_db: Database) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    step_msg = user.last_message()
    done = user.button_data(t.DONE_LABEL)
    await user.tap(t.STOP_LABEL)
    await user.tap_data(done, message_id=step_msg.message_id)
    assert user.last_answer() == t.SESSION_ENDED
    row = await current(app_db, user.user_id)
    assert await logged(app_db, row.id) == []


# ---------------------------------------------------------------- resume


async def test_warmup_while_active_offers_resume_or_abandon(
    user: FakeUser, app_db: Database
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.DONE_LABEL)
    await user.tap(t.SKIP_REST_LABEL)
    await user.send("/warmup")
    text = user.last_message().text
    assert "Upper-body activation · round 1/2 · step 2/3" in text and "Resume" in text
    await user.tap(t.RESUME)
    assert "Pull-aparts" in user.last_message().text
    await user.tap(t.DONE_LABEL)
    first = await current(app_db, user.user_id)
    await user.send("/warmup")
    await user.tap(t.ABANDON)
    assert t.ABANDONED in user.last_message().text
    # The superset stays ⭐; upper was done last, so the glute routine is the next alternative.
    assert user.buttons()[:2] == [["⭐ Lower + upper superset"], ["Glutes for back relief"]]
    abandoned = await current(app_db, user.user_id)
    assert abandoned.id == first.id and abandoned.status == "abandoned"
    assert len(await logged(app_db, first.id)) == 2
    await user.tap("Lower-body")
    await user.tap("✓ 2 rounds (suggested)")
    await user.tap(GREEN)
    fresh = await current(app_db, user.user_id)
    assert fresh.id != first.id and fresh.status == "active" and fresh.routine_key == "lower"


async def test_idle_session_is_closed_after_two_hours(
    user: FakeUser, app_db: Database, app: BandCoachApp, clock: ManualClock
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.DONE_LABEL)
    await tick(app, clock, 2 * 3600 + 1)
    row = await current(app_db, user.user_id)
    assert row.status == "abandoned"
    assert len(await logged(app_db, row.id)) == 1
    await user.send("/warmup")
    assert user.last_message().text == t.CHOOSE_ROUTINE


@asynccontextmanager
async def restarted(
    database_url: str, fake: FakeTelegram, clock: ManualClock, old: BandCoachApp
) -> AsyncIterator[BandCoachApp]:
    """Simulate a restart: freeze the old app's jobs and run a new Application on the same DB."""
    assert old.job_queue is not None
    old.job_queue.scheduler.pause()
    errors = HandlerErrors()
    async with running_app(database_url, fake, clock, errors) as new:
        yield new
    assert not errors.errors, f"The restarted app's handlers raised: {errors.errors}"


async def test_a_new_application_continues_where_the_old_one_stopped(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
    database_url: str,
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    first_step = user.last_message()
    done = user.button_data(t.DONE_LABEL)
    await user.tap(t.DONE_LABEL)
    rest = user.last_message()
    clock.advance(7)  # the old process dies mid-rest with an edit due
    async with restarted(database_url, fake, clock, app) as new:
        await fire_due_timers(new.bot_data, clock())
        assert edits_of(fake, rest.message_id)[-1].startswith("⏸ Rest: 13 s")
        await user.tap_data(done, message_id=first_step.message_id)  # stale: already logged
        assert user.last_answer() == t.STEP_DONE
        assert user.last_message().text.startswith("⏸ Rest: 13 s")  # current state re-sent
        await tick(new, clock, 13)
        assert "Pull-aparts" in user.last_message().text
        await user.tap(t.FEWER_LABEL)
        await user.send("8")
        await user.tap(t.SKIP_REST_LABEL)
        await user.send("/warmup")
        assert "round 1/2 · step 3/3" in user.last_message().text
    row = await current(app_db, user.user_id)
    sets = await logged(app_db, row.id)
    assert [(s.position, s.actual, s.outcome) for s in sets] == [(0, 10, "done"), (1, 8, "fewer")]


async def test_timers_missed_during_downtime_jump_to_the_step_without_a_burst(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
    database_url: str,
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.DONE_LABEL)
    rest = user.last_message()
    edits_before = len(fake.calls_to("editMessageText"))
    clock.advance(600)
    async with restarted(database_url, fake, clock, app) as new:
        await fire_due_timers(
            new.bot_data, clock()
        )  # (the new app's own job may have got there first)
        assert await fire_due_timers(new.bot_data, clock()) == 0
        # One edit straight to the step, no replay of the missed countdown. The old process
        # stopped before recording its last edit (Database.defer), so the new one may send that
        # rest screen once more, which Telegram refuses as unchanged: the member sees nothing.
        calls = fake.calls_to("editMessageText")[edits_before:]
        assert len([c for c in calls if c.ok]) == 1
        assert all(c.params["text"] == rest.text for c in calls if not c.ok)
        assert len(calls) <= 2
        latest = user.last_message()
        assert latest.message_id == rest.message_id and "Pull-aparts" in latest.text
    row = await current(app_db, user.user_id)
    assert (row.position, row.phase, row.timer_due_at) == (1, "step", None)


async def test_a_second_tap_on_the_last_done_says_the_session_ended(
    user: FakeUser, app_db: Database
) -> None:
    await begin(user, "quick")
    row = await current(app_db, user.user_id)
    for _ in range(len(row.plan["steps"]) - 1):
        await user.tap(t.DONE_LABEL)
    last = user.last_message()
    done = user.button_data(t.DONE_LABEL)
    await user.tap(t.DONE_LABEL)
    assert "Warm-up complete!" in user.last_message().text
    await user.tap_data(done, message_id=last.message_id)
    assert user.last_answer() == t.SESSION_ENDED
    assert len(await logged(app_db, row.id)) == len(row.plan["steps"])


async def test_a_timer_that_cannot_advance_holds_up_no_other_rest(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
    quiet_jobs: None,
) -> None:
    other = fake.user(5151, first_name="Sam")
    for member in (user, other):
        await begin(member, "upper", SUGGESTED_2)
        await member.tap(t.DONE_LABEL)  # a rest starts for both
        assert member.last_message().text.startswith("⏸ Rest")
    broken = await current(app_db, other.user_id)
    async with app_db.write() as session:  # a plan this version cannot read (e.g. edited by hand)
        row = await session.get(WorkoutSession, broken.id)
        assert row is not None
        row.plan = {"routine": "upper", "steps": "not a list"}
    clock.advance(25)
    run = await warmup_timers.advance_timers(app.bot_data, clock())
    await app.bot_data.delivery.push(run.shown)
    assert (run.due, len(run.failures)) == (2, 1)
    assert not user.last_message().text.startswith("⏸ Rest")  # the good rest ended all the same
    assert other.last_message().text.startswith("⏸ Rest")
