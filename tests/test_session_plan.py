"""The pure session domain: plans, countdown maths, taps, counts, summaries and suggestions."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.coaching import session as s
from bot.coaching import session_texts as t
from bot.coaching.catalogue import load_catalogue

CAT = load_catalogue()
T0 = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """Return T0 plus some seconds."""
    return T0 + timedelta(seconds=seconds)


# ---------------------------------------------------------------- plans


@pytest.mark.parametrize(
    ("routine", "rounds", "length", "last_step_of_rounds"),
    [
        ("lower", 2, 12, [6, 6]),
        ("lower", 4, 24, [6, 6, 6, 6]),
        ("upper", 3, 9, [3, 3, 3]),
        ("superset", 2, 18, [9, 9]),
        ("glutes_back", 2, 14, [8, 6]),  # the squeeze primer only opens round 1
        ("glutes_back", 1, 8, [8]),
        ("hip_flexion", 3, 6, [2, 2, 2]),
        ("quick", 1, 3, [3]),
    ],
)
def test_plan_expands_rounds(
    routine: str, rounds: int, length: int, last_step_of_rounds: list[int]
) -> None:
    plan = s.build_plan(CAT, routine, rounds, "green")
    assert len(plan.steps) == length
    assert [p.position for p in plan.steps] == list(range(length))
    per_round = [
        max(p.step_no for p in plan.steps if p.round_no == r) for r in range(1, rounds + 1)
    ]
    assert per_round == last_step_of_rounds
    assert all(p.steps_in_round == last_step_of_rounds[p.round_no - 1] for p in plan.steps)
    assert all(p.rounds == rounds for p in plan.steps)


def test_lower_plan_rests_follow_the_seed() -> None:
    plan = s.build_plan(CAT, "lower", 2, "green")
    routine = CAT.routine("lower")
    rests = [p.rest_after for p in plan.steps]
    moves, rounds = routine.rest_between_moves, routine.rest_between_rounds
    assert rests == [moves] * 5 + [rounds] + [moves] * 5 + [0]


def test_step_rest_override_and_band_only_on_banded_moves() -> None:
    plan = s.build_plan(CAT, "glutes_back", 2, "blue")
    side_left = next(p for p in plan.steps if p.exercise == "side_steps" and p.side == "left")
    assert side_left.rest_after == 30
    bridge = next(p for p in plan.steps if p.exercise == "glute_bridge")
    assert bridge.band is None and side_left.band == "blue"


@pytest.mark.parametrize(("routine", "rounds"), [("lower", 1), ("lower", 5), ("quick", 2)])
def test_rounds_outside_the_allowed_range_are_refused(routine: str, rounds: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        s.build_plan(CAT, routine, rounds, "green")


@given(
    routine=st.sampled_from(list(CAT.routines)),
    band=st.sampled_from(["yellow", "green", "blue", "black", None]),
    data=st.data(),
)
def test_plan_round_trips_through_json(routine: str, band: str | None, data: st.DataObject) -> None:
    rounds = data.draw(st.sampled_from(CAT.routine(routine).round_choices))
    plan = s.build_plan(CAT, routine, rounds, band)
    restored = s.Plan.from_json(json.loads(json.dumps(plan.to_json())))
    assert restored == plan
    assert plan.steps[-1].rest_after == 0
    assert all(p.rest_after >= 0 for p in plan.steps)


# ---------------------------------------------------------------- texts


def test_step_text_shows_where_what_target_band_and_cues() -> None:
    plan = s.build_plan(CAT, "lower", 3, "green")
    step = plan.steps[9]  # round 2, step 4: lateral walks, right
    text = t.step_text(plan.routine_name, step, CAT.exercise(step.exercise).cues)
    assert "Lower-body activation · round 2/3 · step 4/6" in text
    assert "Lateral walks · right foot leads" in text
    assert "10 steps · green band" in text
    for cue in CAT.exercise("lateral_walks").cues:
        assert f"• {cue}" in text


@pytest.mark.parametrize(
    ("routine", "index", "expected"),
    [
        ("lower", 0, "10 seconds · yellow band"),
        ("lower", 4, "10 steps each (forward and back) · yellow band"),
        ("glutes_back", 0, "2 reps, hold 8 s each · no band"),
        ("glutes_back", 1, "3 reps · no band"),
        ("glutes_back", 3, "6 reps, hold 3 s each · no band"),
        ("upper", 0, "10 reps each (in front and behind) · yellow band"),
    ],
)
def test_target_lines(routine: str, index: int, expected: str) -> None:
    step = s.build_plan(CAT, routine, CAT.routine(routine).rounds, "yellow").steps[index]
    assert t.target_text(step) == expected


# ---------------------------------------------------------------- countdowns


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (1, (1,)),
        (3, (3, 2, 1)),
        (8, (8, 5, 3, 2, 1)),
        (10, (10, 5, 3, 2, 1)),
        (12, (12, 10, 5, 3, 2, 1)),
        (20, (20, 15, 10, 5, 3, 2, 1)),
    ],
)
def test_checkpoints_every_five_then_three_two_one(seconds: int, expected: tuple[int, ...]) -> None:
    assert s.checkpoints(seconds) == expected


def test_ten_second_work_countdown_step_by_step() -> None:
    step = s.build_plan(CAT, "lower", 2, "green").steps[0]
    segments = s.work_segments(step)
    assert segments == (s.Segment("Get ready", 3), s.Segment("Go", 10))
    shown = []
    now = 0.0
    while True:
        tick = s.countdown(T0, segments, at(now))
        if tick.finished:
            break
        shown.append((now, tick.label, tick.remaining))
        assert tick.next_offset is not None and tick.next_offset > now
        now = tick.next_offset
    assert shown == [
        (0, "Get ready", 3),
        (1, "Get ready", 2),
        (2, "Get ready", 1),
        (3, "Go", 10),
        (8, "Go", 5),
        (10, "Go", 3),
        (11, "Go", 2),
        (12, "Go", 1),
    ]
    assert now == 13


def test_plain_duration_countdown() -> None:
    tick = s.countdown(T0, 45, at(0))
    assert (tick.remaining, tick.next_offset, tick.next_due) == (45, 5, at(5))
    assert s.countdown(T0, 45, at(45)).finished


def test_late_countdown_jumps_to_the_current_value() -> None:
    tick = s.countdown(T0, 30, at(21.4))  # missed edits at 25 and 20 remaining
    assert tick.remaining == 9 and tick.next_offset == 25
    assert s.countdown(T0, 30, at(500)).finished


def test_hold_countdown_has_relax_between_holds() -> None:
    step = s.build_plan(CAT, "glutes_back", 2, "green").steps[0]
    labels = [seg.label for seg in s.work_segments(step)]
    assert labels == ["Get ready", "Hold 1/2", "Relax", "Hold 2/2"]  # a couple of 8 s holds
    assert s.total_seconds(s.work_segments(step)) == 3 + 2 * 8 + 3


@given(
    durations=st.lists(st.integers(1, 120), min_size=1, max_size=5),
    start_offset=st.floats(0, 0.99),
)
def test_countdown_edits_are_paced_and_end(durations: list[int], start_offset: float) -> None:
    segments = [s.Segment(str(i), d) for i, d in enumerate(durations)]
    now = start_offset
    edits = 0
    last_remaining: tuple[int, int] | None = None
    while True:
        tick = s.countdown(T0, segments, at(now))
        if tick.finished:
            break
        edits += 1
        assert tick.next_offset is not None and tick.next_offset > now
        # Never faster than one edit per second, and never more than 5 s without one.
        gap = tick.next_offset - now
        assert gap <= 5 and (gap >= 1 or now == start_offset)
        if last_remaining is not None and last_remaining[0] == tick.segment:
            assert tick.remaining < last_remaining[1]
        last_remaining = (tick.segment, tick.remaining)
        now = tick.next_offset
    assert now == sum(durations)
    assert edits <= sum(d // 5 + 4 for d in durations)


@given(duration=st.integers(1, 600), late=st.floats(0, 700))
def test_tick_at_any_moment_is_consistent(duration: int, late: float) -> None:
    tick = s.countdown(T0, duration, at(late))
    if late >= duration:
        assert tick.finished and tick.next_due is None
    else:
        assert 1 <= tick.remaining <= duration
        assert tick.remaining - 1 < duration - late <= tick.remaining
        assert tick.next_due is not None and at(late) < tick.next_due <= at(duration)


def test_timer_phase_round_trip_recovers_the_start() -> None:
    tick, timer = s.start_timer(s.REST, s.rest_segments(20), T0)
    assert timer.phase == "rest:5" and tick.next_due == at(5)
    parsed = s.parse_phase(timer.phase)
    assert parsed == timer and parsed.started_at(at(5)) == T0
    assert s.parse_phase("step") is None and s.parse_phase("work:x") is None


def test_after_set_rests_then_moves_and_finishes() -> None:
    plan = s.build_plan(CAT, "upper", 2, "green")
    nxt = s.after_set(plan, 0, T0)
    assert (nxt.position, nxt.phase, nxt.timer_due_at, nxt.finished) == (1, "rest:5", at(5), False)
    assert s.after_set(plan, 5, T0).finished
    quick = s.build_plan(CAT, "quick", 1, "green")  # no rest between its moves
    assert s.after_set(quick, 0, T0) == s.Next(1, s.STEP, None, finished=False)


@pytest.mark.parametrize(("late", "stale"), [(0, False), (30, False), (31, True), (3600, True)])
def test_stale_timers(late: int, stale: bool) -> None:
    assert s.is_stale(T0, at(late)) is stale


@pytest.mark.parametrize(("late", "stale"), [(31, False), (300, False), (301, True)])
def test_on_a_10x_clock_the_stale_cutoff_is_30_wall_seconds(late: int, stale: bool) -> None:
    assert s.is_stale(T0, at(late), speed=10) is stale


# ---------------------------------------------------------------- counts and taps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7),
        (" 12 ", 12),
        ("0", 0),
        ("200", 200),
        ("007", 7),
        ("201", None),
        ("500", None),
        ("-3", None),
        ("7.5", None),
        ("abc", None),
        ("", None),
        ("1e2", None),
        ("+5", None),
        ("٣", None),
        ("1000", None),
    ],
)
def test_parse_count(text: str, expected: int | None) -> None:
    assert s.parse_count(text) == expected


@given(st.integers(1, 200))
def test_fewer_choices_are_below_the_target(target: int) -> None:
    choices = s.fewer_choices(target)
    assert choices[0] == 0 and choices[-1] == target - 1
    assert len(choices) <= 16 and list(choices) == sorted(set(choices))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("ws:12:3:d", s.Tap(12, 3, "done")),
        ("ws:12:3:f", s.Tap(12, 3, "fewer")),
        ("ws:12:3:s", s.Tap(12, 3, "skip")),
        ("ws:12:3:x", s.Tap(12, 3, "stop")),
        ("ws:12:3:g", s.Tap(12, 3, "go")),
        ("ws:12:3:r", s.Tap(12, 3, "skip_rest")),
        ("ws:12:3:b", s.Tap(12, 3, "back")),
        ("ws:12:3:n7", s.Tap(12, 3, "count", 7)),
        ("ws:12:3:n201", None),
        ("ws:12:3:q", None),
        ("ws:12:-3:d", None),
        ("ws:x:3:d", None),
        ("ws:12:3", None),
        ("ws:12:3:d:extra", None),
        ("ob:goal:lift", None),
        ("", None),
    ],
)
def test_parse_tap(data: str, expected: s.Tap | None) -> None:
    assert s.parse_tap(data) == expected


@given(
    sid=st.integers(1, 10**18 - 1),
    pos=st.integers(0, 9999),
    action=st.sampled_from([*s.TAP_ACTIONS.values(), "count"]),
    count=st.integers(0, 200),
)
def test_taps_round_trip_within_64_bytes(sid: int, pos: int, action: str, count: int) -> None:
    tap = s.Tap(sid, pos, action, count if action == "count" else None)
    data = tap.encode()
    assert len(data.encode()) <= 64
    assert s.parse_tap(data) == tap


# ---------------------------------------------------------------- summary


def test_summary_counts_sets_and_totals() -> None:
    plan = s.build_plan(CAT, "lower", 2, "green")
    outcomes = {0: (10, "done"), 1: (7, "fewer"), 2: (0, "skipped"), 4: (10, "done")}
    sets = [
        s.LoggedSet(
            p,
            plan.steps[p].exercise,
            plan.steps[p].side,
            plan.steps[p].unit,
            plan.steps[p].target,
            actual,
            outcome,
        )
        for p, (actual, outcome) in outcomes.items()
    ]
    summary = s.summarise(plan, sets, T0, at(754), finished=False)
    assert (summary.done, summary.fewer, summary.skipped, summary.planned) == (3, 1, 1, 12)
    # Monster walks count forward and back: 2 x 10.
    assert summary.totals == {"seconds": 10, "steps": 7 + 20}
    text = t.summary_text(summary)
    assert "Time: 12 min 34 s" in text and "Sets done: 3 of 12 (1 with fewer" in text
    assert "Skipped: 1" in text and "Total: 10 seconds, 27 steps" in text
    assert "Band: green band" in text and text.startswith("⏹ Warm-up ended early.")


def test_hold_sets_count_as_reps() -> None:
    plan = s.build_plan(CAT, "glutes_back", 1, "green")
    step = plan.steps[0]
    logged = s.LoggedSet(0, step.exercise, None, step.unit, 3, 3, "done")
    assert s.summarise(plan, [logged], T0, at(60), finished=True).totals == {"reps": 3}


# ---------------------------------------------------------------- suggestion


@pytest.mark.parametrize(
    ("goal", "last", "expected"),
    [
        # Seed 001: both sequences at least 3 times a week, so the superset is always ⭐.
        ("back", None, ["superset", "lower", "upper", "glutes_back", "hip_flexion", "quick"]),
        # Then the goal's other routines as alternatives, starting after the one done last.
        ("back", "glutes_back", ["superset", "hip_flexion", "lower", "upper", "glutes_back"]),
        ("back", "quick", ["superset", "lower", "upper", "glutes_back", "hip_flexion"]),
        ("lift", "superset", ["superset", "quick", "lower", "upper"]),
        ("lift", "lower", ["superset", "upper", "quick", "lower"]),
        (None, None, ["superset", "lower", "upper", "glutes_back", "hip_flexion", "quick"]),
    ],
)
def test_the_superset_comes_first_then_the_goals_routines_in_turn(
    goal: str | None, last: str | None, expected: list[str]
) -> None:
    ordered = [r.key for r in s.ordered_routines(CAT, goal, last)]
    assert ordered[: len(expected)] == expected
    assert sorted(ordered) == sorted(CAT.routines)


def test_without_a_suggested_routine_the_goals_routines_take_turns() -> None:
    plain = replace(CAT, routines={k: replace(r, suggested=False) for k, r in CAT.routines.items()})
    assert [
        s.suggest_routine(plain, "back", last).key for last in (None, "lower", "hip_flexion")
    ] == [
        "lower",
        "upper",
        "lower",
    ]


def test_following_the_suggestion_3_times_a_week_trains_each_seed_001_sequence_12_times() -> None:
    lower = {step.exercise for step in CAT.routine("lower").steps}
    upper = {step.exercise for step in CAT.routine("upper").steps}
    for goal in ("back", "lift"):
        last, trained = None, {"lower": 0, "upper": 0}
        for _ in range(4 * 3):  # four weeks, three sessions each
            routine = s.suggest_routine(CAT, goal, last)
            done = {step.exercise for step in routine.steps}
            trained["lower"] += lower <= done
            trained["upper"] += upper <= done
            last = routine.key
        assert trained == {"lower": 12, "upper": 12}, goal


def test_the_domain_imports_neither_telegram_nor_sqlalchemy() -> None:
    code = (
        "import sys, bot.coaching.session, bot.coaching.session_texts, bot.coaching.catalogue, "
        "bot.coaching.setup, bot.coaching.progression, bot.coaching.checkin_texts; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('telegram', 'sqlalchemy')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
