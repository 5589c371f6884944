"""The progression engine: one table-driven test per rule with the seeds' numbers, properties."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.coaching import progression as p
from bot.coaching.catalogue import load_catalogue
from bot.coaching.profile import BANDS
from bot.coaching.session import build_plan

CAT = load_catalogue()
PAIN_FREE = p.CheckIn(pain=0, weaker_side="same")


def start(routine: str, band: str | None = "green", **changes: object) -> p.Prescription:
    """Return the default prescription with one routine changed."""
    rx = p.prescription_for(CAT, band)
    routines = dict(rx.routines)
    routines[routine] = replace(rx.routine(routine), **changes)  # type: ignore[arg-type]
    return p.Prescription(routines)


def session(
    rx: p.Prescription,
    routine: str,
    *,
    actual: Callable[[str, int, int], int] | None = None,
    finished: bool = True,
    stopped: bool = False,
) -> p.SessionResult:
    """Return the result of doing a routine's prescription; `actual(exercise, target, i)`."""
    routine_rx = rx.routine(routine)
    plan = build_plan(
        CAT,
        routine,
        routine_rx.rounds,
        routine_rx.band,
        targets=routine_rx.targets,
        holds=routine_rx.holds,
        rest_between_moves=routine_rx.rest_between_moves,
        extra_side=routine_rx.extra_side,
    )
    sets = tuple(
        p.SetResult(
            step.exercise,
            step.side,
            step.target,
            step.target if actual is None else actual(step.exercise, step.target, i),
        )
        for i, step in enumerate(plan.steps)
    )
    return p.SessionResult(routine, routine_rx.band, finished, stopped, sets)


def targets(rx: p.Prescription, routine: str) -> dict[str, int]:
    """Return a routine's targets."""
    return dict(rx.routine(routine).targets)


# ---------------------------------------------------------------- ladders


@pytest.mark.parametrize(
    ("exercise", "expected"),
    [
        ("lateral_walks", (10, 12, 13, 14, 15)),  # 001: steps
        ("foot_fire", (10, 12, 13, 14, 15)),  # 001: seconds
        ("pull_aparts", (10, 12, 13, 14, 15)),  # 001: reps
        ("glute_bridge", (10, 11, 12, 13, 14, 15)),  # 004: 10-15
        ("belly_leg_raises", (6, 7, 8, 9, 10)),  # 004: 6-10, once the hold has grown to 6 s
        ("side_steps", (10, 11, 12)),  # 004: 10-12
        ("band_squats", (8, 9, 10)),  # 004: 8-10
    ],
)
def test_ladders_follow_the_seeds(exercise: str, expected: tuple[int, ...]) -> None:
    assert p.ladder(CAT.exercise(exercise)) == expected


# ---------------------------------------------------------------- advancing


EARNED = "(all sets done, pain-free)"


@pytest.mark.parametrize(
    ("routine", "exercise", "before", "after", "line"),
    [
        ("lower", "lateral_walks", 12, 13, f"Lateral walks: 12 → 13 steps {EARNED}"),
        ("lower", "lateral_walks", 10, 12, f"Lateral walks: 10 → 12 steps {EARNED}"),
        ("lower", "foot_fire", 13, 14, f"Foot fire: 13 → 14 seconds {EARNED}"),
        ("upper", "touchdowns", 14, 15, f"Touchdowns: 14 → 15 reps {EARNED}"),
        ("glutes_back", "glute_bridge", 10, 11, f"Glute bridge: 10 → 11 reps {EARNED}"),
        ("glutes_back", "side_steps", 11, 12, f"Side steps: 11 → 12 steps {EARNED}"),
        ("glutes_back", "band_squats", 8, 9, f"Band squats: 8 → 9 reps {EARNED}"),
    ],
)
def test_reps_before_tension_one_rung_when_earned(
    routine: str, exercise: str, before: int, after: int, line: str
) -> None:
    rx = start(
        routine, targets={**p.default_routine(CAT, routine, "green").targets, exercise: before}
    )
    result = p.next_prescription(CAT, rx, session(rx, routine), PAIN_FREE)
    assert targets(result.prescription, routine)[exercise] == after
    assert line in result.reasons
    assert result.prescription.routine(routine).band == "green"


def test_belly_leg_raises_hold_grows_to_six_seconds_before_the_count_climbs() -> None:
    rx = p.prescription_for(CAT, "green")
    belly = CAT.exercise("belly_leg_raises")
    seen, lines = [], []
    for _ in range(12):
        result = p.next_prescription(CAT, rx, session(rx, "glutes_back"), PAIN_FREE)
        assert result.raised or p.at_top(belly, *rx.routine("glutes_back").load(belly))
        lines += [line for line in result.reasons if line.startswith("Belly leg raises")]
        rx = result.prescription
        seen.append(rx.routine("glutes_back").load(belly))
    assert seen[:8] == [(6, 4), (6, 5), (6, 6), (7, 6), (8, 6), (9, 6), (10, 6), (10, 6)]
    assert lines[:4] == [
        f"Belly leg raises: hold 3 → 4 s {EARNED}",
        f"Belly leg raises: hold 4 → 5 s {EARNED}",
        f"Belly leg raises: hold 5 → 6 s {EARNED}",
        f"Belly leg raises: 6 → 7 reps {EARNED}",
    ]
    assert "Belly leg raises stays at 10 reps, hold 6 s each: the top of its range" in lines
    plan = build_plan(CAT, "glutes_back", 2, "green", holds=rx.routine("glutes_back").holds)
    assert {s.hold_seconds for s in plan.steps if s.exercise == "belly_leg_raises"} == {6}


def test_a_growing_hold_steps_down_after_the_count_and_resets_on_a_deload() -> None:
    belly = CAT.exercise("belly_leg_raises")
    rx = start("glutes_back", band="yellow", holds={"belly_leg_raises": 6})
    gap, lines = p.restart_after_gap(CAT, rx.routine("glutes_back"), 14)
    assert gap.load(belly) == (6, 5) and "Belly leg raises: hold 6 → 5 s (one rung lower)" in lines
    stepped = replace(rx.routine("glutes_back"), targets={**gap.targets, "belly_leg_raises": 8})
    assert p.restart_after_gap(CAT, stepped, 14)[0].load(belly) == (7, 6)
    routines = {**rx.routines, "glutes_back": stepped}
    severe = p.CheckIn(pain=8, weaker_side="same")
    result = p.next_prescription(
        CAT, p.Prescription(routines), session(p.Prescription(routines), "glutes_back"), severe
    )
    assert result.prescription.routine("glutes_back").load(belly) == (6, 3)
    assert "Belly leg raises: 8 → 6 reps, hold 6 → 3 s (deload after the pain)" in result.reasons


@pytest.mark.parametrize(
    ("pain", "short_by", "moves"),
    [(0, 0, True), (2, 0, True), (3, 0, False), (0, 1, False), (2, 3, False)],
)
def test_advance_only_when_every_set_hit_and_pain_at_most_two(
    pain: int, short_by: int, moves: bool
) -> None:
    rx = start("upper")
    one_short = session(  # set 5 is touchdowns in round 2
        rx, "upper", actual=lambda ex, target, i: target - short_by if i == 5 else target
    )
    result = p.next_prescription(CAT, rx, one_short, p.CheckIn(pain=pain))
    after = targets(result.prescription, "upper")
    assert (after["touchdowns"] == 12) is moves
    assert after["pull_aparts"] == (12 if pain <= 2 else 10)
    if short_by:
        assert "Touchdowns stays at 10 reps: not every set reached 10 this time" in result.reasons


def test_doing_far_more_still_moves_one_rung() -> None:
    rx = start("upper")
    result = p.next_prescription(CAT, rx, session(rx, "upper", actual=lambda *_: 15), PAIN_FREE)
    assert set(targets(result.prescription, "upper").values()) == {12}


def test_band_up_when_every_banded_exercise_tops_out_pain_free() -> None:
    rx = start("upper", targets={"in_fronts_behinds": 15, "pull_aparts": 15, "touchdowns": 15})
    result = p.next_prescription(CAT, rx, session(rx, "upper"), p.CheckIn(pain=1))
    upper = result.prescription.routine("upper")
    assert upper.band == "blue" and set(upper.targets.values()) == {10}
    assert result.reasons[0].startswith("Band green → blue: every banded exercise reached the top")
    assert "Pull-aparts: 15 → 10 reps (new band)" in result.reasons


def test_no_band_up_until_every_banded_exercise_is_at_the_top() -> None:
    rx = start("upper", targets={"in_fronts_behinds": 15, "pull_aparts": 14, "touchdowns": 15})
    result = p.next_prescription(CAT, rx, session(rx, "upper"), PAIN_FREE)
    upper = result.prescription.routine("upper")
    assert upper.band == "green"
    assert dict(upper.targets) == {"in_fronts_behinds": 15, "pull_aparts": 15, "touchdowns": 15}
    assert any(
        r.startswith("Touchdowns stays at 15 reps: the top of its range") for r in result.reasons
    )


def test_band_up_ignores_unbanded_exercises_of_the_routine() -> None:
    tops = {"glute_squeeze": 2, "squeeze_build": 3, "glute_bridge": 12, "belly_leg_raises": 6,
            "side_steps": 12, "band_squats": 10}  # fmt: skip
    rx = start("glutes_back", targets=tops, holds={"belly_leg_raises": 6})
    result = p.next_prescription(CAT, rx, session(rx, "glutes_back"), PAIN_FREE)
    after = result.prescription.routine("glutes_back")
    assert after.band == "blue"
    assert dict(after.targets) == {
        "glute_squeeze": 2, "squeeze_build": 4, "glute_bridge": 13, "belly_leg_raises": 7,
        "side_steps": 10, "band_squats": 8,
    }  # fmt: skip
    assert after.holds == {"belly_leg_raises": 6}  # an unbanded move keeps its hold


def test_at_black_reps_keep_climbing_to_the_top_and_it_says_so() -> None:
    rx = start("upper", band="black", targets={"in_fronts_behinds": 15, "pull_aparts": 13,
                                                "touchdowns": 15})  # fmt: skip
    result = p.next_prescription(CAT, rx, session(rx, "upper"), PAIN_FREE)
    upper = result.prescription.routine("upper")
    assert upper.band == "black" and upper.targets["pull_aparts"] == 14
    assert any("black is the heaviest band, so the reps keep climbing" in r for r in result.reasons)
    again = p.next_prescription(CAT, result.prescription, session(result.prescription, "upper"),
                                PAIN_FREE).prescription  # fmt: skip
    done = p.next_prescription(CAT, again, session(again, "upper"), PAIN_FREE)
    assert done.prescription.routine("upper").band == "black"
    assert set(done.prescription.routine("upper").targets.values()) == {15}
    assert any("on black, the heaviest band" in r for r in done.reasons)


def test_rest_between_moves_shrinks_one_step_per_pain_free_complete_session() -> None:
    rx = start("lower")
    seen = [rx.routine("lower").rest_between_moves]
    for _ in range(5):
        rx = p.next_prescription(CAT, rx, session(rx, "lower"), PAIN_FREE).prescription
        seen.append(rx.routine("lower").rest_between_moves)
    assert seen == [20, 15, 10, 5, 0, 0]
    assert rx.routine("lower").rest_between_moves == 0


@pytest.mark.parametrize(
    ("finished", "pain", "short"), [(False, 0, False), (True, 3, False), (True, 0, True)]
)
def test_rest_stays_after_an_incomplete_or_painful_session(
    finished: bool, pain: int, short: bool
) -> None:
    rx = start("lower")
    result = session(rx, "lower", finished=finished, actual=lambda e, t, i: t - (short and i == 0))
    after = p.next_prescription(CAT, rx, result, p.CheckIn(pain=pain)).prescription
    assert after.routine("lower").rest_between_moves == 20


# ---------------------------------------------------------------- left and right (seed 002)


@pytest.mark.parametrize(
    ("history", "side"),
    [
        (["left", "same", "left", "right", "left"], "left"),
        (["right", "right", "right"], "right"),
        (["left", "left", "right", "same", "same"], None),
        (["left", "left", "left", "right", "right", "right", "same", "same"], "right"),
        (["left", "left", "left", "same", "same", "same", "right", "right"], None),  # last 5
        (["left", "same", "left", "same", "left", "same", "same"], None),  # only 2 in the last 5
    ],
)
def test_weaker_side_is_three_of_the_last_five(history: list[str], side: str | None) -> None:
    assert p.weaker_side(history)[0] == side


def test_a_weaker_side_gets_one_extra_set_for_per_side_exercises_until_it_evens_out() -> None:
    rx = start("lower")
    history = ["left", "same", "left", "right", "left"]
    result = p.next_prescription(CAT, rx, session(rx, "lower"), p.CheckIn(0, weaker_side="left"),
                                 history)  # fmt: skip
    extra = {key: r.extra_side for key, r in result.prescription.routines.items()}
    # The quick warm-up offers per-side moves (foot fire, lateral walks) among its choices.
    assert extra == {"lower": "left", "upper": None, "superset": "left", "glutes_back": "left",
                     "hip_flexion": "left", "quick": "left"}  # fmt: skip
    assert (
        "Your left side felt weaker in 3 of your last 5 check-ins: one extra set on the left "
        "for per-side exercises until the sides even out"
    ) in result.reasons
    plan_sides = [s.side for s in session(result.prescription, "lower").sets if s.side]
    assert plan_sides.count("left") == plan_sides.count("right") + 2  # lateral walks, foot fire
    evened = [*history, "right", "same"]
    later = p.next_prescription(CAT, result.prescription, session(result.prescription, "lower"),
                                p.CheckIn(0, weaker_side="same"), evened)  # fmt: skip
    assert all(r.extra_side is None for r in later.prescription.routines.values())
    assert "Left and right have evened out: the extra left set is dropped" in later.reasons


def test_no_extra_set_is_added_on_a_painful_day() -> None:
    rx = start("lower")
    history = ["left", "left", "left"]
    result = p.next_prescription(CAT, rx, session(rx, "lower"), p.CheckIn(4, weaker_side="left"),
                                 history)  # fmt: skip
    assert all(r.extra_side is None for r in result.prescription.routines.values())


@pytest.mark.parametrize("band", BANDS)
def test_hip_flexion_stays_on_yellow_or_green_and_its_reps_stop_at_15(band: str) -> None:
    rx = p.prescription_for(CAT, band)
    light = "yellow" if band == "yellow" else "green"
    assert rx.routine("hip_flexion").band == light
    top = start("hip_flexion", band=light, targets={"hip_flexion": 15})
    result = p.next_prescription(CAT, top, session(top, "hip_flexion"), PAIN_FREE)
    after_top = result.prescription.routine("hip_flexion")
    assert (after_top.band, dict(after_top.targets)) == (light, {"hip_flexion": 15})
    assert result.reasons[0] == (
        "Band hip flexion stays at 15 reps: the top of its range; it stays on a light band, "
        "precision over range"
    )
    heavy = p.SessionResult("hip_flexion", "black", True, False, session(top, "hip_flexion").sets)
    after = p.next_prescription(CAT, top, heavy, PAIN_FREE).prescription
    assert after.routine("hip_flexion").band == "green"  # the band used today, but never above


def test_a_deload_in_one_routine_reaches_every_routine_with_the_same_exercises() -> None:
    targets = {"foot_fire": 13, "lateral_walks": 13, "monster_walks": 12, "diagonal_walks": 12}
    lower = start("lower", band="blue", targets=targets)
    result = p.next_prescription(CAT, lower, session(lower, "lower"), p.CheckIn(8))
    after = result.prescription
    for key in ("lower", "superset", "quick"):
        assert after.routine(key).targets["lateral_walks"] == 13, key  # targets belong to moves
    assert {after.routine(k).band for k in ("lower", "upper", "superset", "glutes_back")} == {
        "green"  # one band per member: the deload lightens every routine
    }
    assert after.routine("hip_flexion").band == "green"


def test_a_band_up_restarts_every_banded_move_at_the_bottom() -> None:
    tops = {e: 15 for e in ("foot_fire", "lateral_walks", "monster_walks", "diagonal_walks")}
    rx = start("lower", targets=tops)
    result = p.next_prescription(CAT, rx, session(rx, "lower"), PAIN_FREE)
    after = result.prescription
    assert after.routine("upper").band == "blue" and after.routine("quick").band == "blue"
    assert after.routine("glutes_back").targets["band_squats"] == 8  # bottom of its range
    assert after.routine("glutes_back").targets["glute_bridge"] == 10  # no band: unchanged


def test_a_band_the_member_does_not_own_is_never_prescribed() -> None:
    tops = {e: 15 for e in ("in_fronts_behinds", "pull_aparts", "touchdowns")}
    rx = start("upper", targets=tops)
    green_only = frozenset({"green"})
    up = p.next_prescription(CAT, rx, session(rx, "upper"), PAIN_FREE, owned=green_only)
    assert up.prescription.routine("upper").band == "green"
    assert dict(up.prescription.routine("upper").targets) == tops  # the reps stay at the top
    assert up.reasons[0] == p.NEED_BAND.format(band="blue")
    black = start("upper", band="black")
    pair = frozenset({"green", "black"})
    down = p.next_prescription(CAT, black, session(black, "upper"), p.CheckIn(8), owned=pair)
    assert down.prescription.routine("upper").band == "green"  # the nearest lighter one owned
    low = p.CheckIn(4, frozenset({p.LOW_BACK}))
    gentle = p.next_prescription(CAT, rx, session(rx, "upper"), low, owned=green_only)
    assert gentle.prescription.routine("upper").band == "green"
    assert "you have no band lighter than green, so less volume" in "\n".join(gentle.reasons)


# ---------------------------------------------------------------- holding and backing off


@pytest.mark.parametrize("pain", [3, 4, 5])
def test_pain_three_to_five_holds_everything(pain: int) -> None:
    rx = start("lower", targets={"foot_fire": 12, "lateral_walks": 13, "monster_walks": 10,
                                 "diagonal_walks": 14})  # fmt: skip
    result = p.next_prescription(
        CAT, rx, session(rx, "lower"), p.CheckIn(pain, frozenset({"knees"}))
    )
    assert result.prescription.routine("lower") == rx.routine("lower") and not result.safety
    assert not result.raised
    assert result.reasons == (
        f"Everything stays as it is: we hold while there is discomfort (pain {pain}/10)",
    )


@pytest.mark.parametrize(
    ("band", "rounds", "pain", "expected_band", "expected_rounds", "bottom"),
    [
        ("black", 2, 4, "blue", 2, False),
        ("blue", 3, 5, "green", 3, False),
        ("green", 2, 3, "yellow", 2, False),
        ("yellow", 3, 5, "yellow", 2, False),  # lightest band: one round fewer…
        ("yellow", 2, 5, "yellow", 2, True),  # …then the bottom of the range
    ],
)
def test_low_back_pain_drops_tension_then_volume(
    band: str, rounds: int, pain: int, expected_band: str, expected_rounds: int, bottom: bool
) -> None:
    rx = start("upper", band=band, rounds=rounds,
               targets={"in_fronts_behinds": 13, "pull_aparts": 12, "touchdowns": 13})  # fmt: skip
    checkin = p.CheckIn(pain, frozenset({p.LOW_BACK, "hips"}))
    result = p.next_prescription(CAT, rx, session(rx, "upper"), checkin)
    upper = result.prescription.routine("upper")
    assert (upper.band, upper.rounds) == (expected_band, expected_rounds)
    expected = {"in_fronts_behinds": 10, "pull_aparts": 10, "touchdowns": 10} if bottom else {
        "in_fronts_behinds": 13, "pull_aparts": 12, "touchdowns": 13}  # fmt: skip
    assert dict(upper.targets) == expected
    assert not result.safety
    if band != "yellow":
        assert result.reasons == (f"Band {band} → {expected_band}: low-back discomfort means too "
                                  "much tension",)  # fmt: skip


@pytest.mark.parametrize("pain", [1, 2])
def test_any_low_back_pain_blocks_every_increase(pain: int) -> None:
    rx = start("upper", band="blue", rest_between_moves=15,
               targets={"in_fronts_behinds": 15, "pull_aparts": 15, "touchdowns": 14})  # fmt: skip
    result = p.next_prescription(
        CAT, rx, session(rx, "upper"), p.CheckIn(pain, frozenset({p.LOW_BACK}), "left"),
        ["left", "left", "left"],
    )  # fmt: skip
    assert result.prescription.routine("upper") == rx.routine("upper") and not result.safety
    assert not result.raised
    assert result.reasons == (
        f"Everything stays as it is: any discomfort in the low back (pain {pain}/10) means no "
        "increase this time",
    )


@pytest.mark.parametrize(
    ("pain", "why"), [(0, "pain-free"), (2, "mild pain 2/10, not in the low back")]
)
def test_only_pain_zero_is_called_pain_free(pain: int, why: str) -> None:
    rx = start("upper")
    result = p.next_prescription(
        CAT,
        rx,
        session(rx, "upper"),
        p.CheckIn(pain, frozenset({"knees"}) if pain else frozenset()),
    )
    assert f"Pull-aparts: 10 → 12 reps (all sets done, {why})" in result.reasons


def test_low_back_pain_of_three_brings_back_rest_between_moves() -> None:
    rx = start("upper", band="blue", rest_between_moves=0)
    result = p.next_prescription(
        CAT, rx, session(rx, "upper"), p.CheckIn(3, frozenset({p.LOW_BACK}))
    )
    upper = result.prescription.routine("upper")
    assert (upper.band, upper.rest_between_moves) == ("green", 10)
    assert result.reasons[-1] == (
        "Rest between moves: 0 → 10 s (a pause between moves helps when the low back tightens)"
    )


@pytest.mark.parametrize(
    ("pain", "stopped", "areas"),
    [
        (6, False, frozenset({"knees"})),
        (7, False, frozenset()),
        (10, False, frozenset({p.LOW_BACK})),
        (3, True, frozenset({"knees"})),
    ],
)
def test_severe_pain_or_stop_with_pain_deloads_with_the_safety_note(
    pain: int, stopped: bool, areas: frozenset[str]
) -> None:
    rx = start("upper", band="blue", rest_between_moves=15)
    result = p.next_prescription(
        CAT, rx, session(rx, "upper", finished=not stopped, stopped=stopped),
        p.CheckIn(pain, areas, "left"), ["left", "left", "left"],
    )  # fmt: skip
    upper = result.prescription.routine("upper")
    assert result.safety and result.deload
    assert upper.band == "green" and set(upper.targets.values()) == {10}
    assert upper.rest_between_moves == 15 and upper.rounds == 2
    assert result.reasons == ("Next session is a deload: band blue → green",)
    assert all(r.extra_side is None for r in result.prescription.routines.values())


def test_severe_pain_on_the_lightest_band_deloads_to_the_bottom_of_the_range() -> None:
    rx = start("upper", band="yellow", targets={"in_fronts_behinds": 13, "pull_aparts": 10,
                                                "touchdowns": 14})  # fmt: skip
    result = p.next_prescription(CAT, rx, session(rx, "upper"), p.CheckIn(8))
    assert set(targets(result.prescription, "upper").values()) == {10}
    assert "Touchdowns: 14 → 10 reps (deload after the pain)" in result.reasons


def test_stop_without_pain_still_moves_exercises_finished_before_it() -> None:
    rx = start("upper")
    done_first_round = session(
        rx, "upper", finished=False, stopped=True, actual=lambda e, t, i: t if i < 3 else 0
    )
    result = p.next_prescription(CAT, rx, done_first_round, PAIN_FREE)
    assert set(targets(result.prescription, "upper").values()) == {10}  # round 2 was not done
    assert not result.safety


def test_a_move_never_reached_is_not_done_rather_than_short() -> None:
    rx = start("upper")
    stopped_at_once = session(rx, "upper", finished=False, stopped=True, actual=lambda e, t, i: 0)
    result = p.next_prescription(CAT, rx, stopped_at_once, PAIN_FREE)
    assert "Pull-aparts stays at 10 reps: not done this time" in result.reasons
    assert not any("not every set" in reason for reason in result.reasons)


@pytest.mark.parametrize(("days", "lower"), [(None, False), (9, False), (10, True), (40, True)])
def test_after_ten_days_off_restart_one_rung_lower_and_say_why(
    days: int | None, lower: bool
) -> None:
    rx = p.default_routine(CAT, "glutes_back", "green")
    rx = replace(rx, targets={**rx.targets, "glute_bridge": 13, "side_steps": 12, "band_squats": 8})
    after, reasons = p.restart_after_gap(CAT, rx, days)
    if not lower:
        assert (after, reasons) == (rx, [])
        return
    assert dict(after.targets) == {**rx.targets, "glute_bridge": 12, "side_steps": 11}
    assert reasons[0] == (
        f"It's been {days} days since your last session, so we restart one rung lower"
    )
    assert "Glute bridge: 13 → 12 reps (one rung lower)" in reasons


def test_a_gap_on_the_bottom_rungs_says_so() -> None:
    rx = p.default_routine(CAT, "upper", "green")
    after, reasons = p.restart_after_gap(CAT, rx, 12)
    assert after == rx and "already at the start of every range" in reasons[0]


def test_stored_prescriptions_are_fitted_to_the_catalogue() -> None:
    odd = p.RoutinePrescription("upper", "purple", 99, 9, {"pull_aparts": 40, "gone": 3}, "up")
    fitted = p.prescription_for(CAT, "blue", [odd]).routine("upper")
    assert fitted == p.RoutinePrescription(
        "upper", "blue", 20, 4, {"in_fronts_behinds": 10, "pull_aparts": 15, "touchdowns": 10}
    )
    rx = start("lower", extra_side="left", band="black")
    assert p.prescription_from_json(CAT, rx.to_json()) == rx


# ---------------------------------------------------------------- a simulated user (seed 001)


def test_twelve_sessions_climb_to_the_next_band_then_back_off_after_low_back_pain() -> None:
    rx = start("upper")
    low_back = p.CheckIn(5, frozenset({p.LOW_BACK}), "same")
    checkins = [PAIN_FREE] * 7 + [low_back] + [p.CheckIn(1, weaker_side="same")] * 4
    seen = []
    for checkin in checkins:
        result = p.next_prescription(CAT, rx, session(rx, "upper"), checkin)
        rx = result.prescription
        upper = rx.routine("upper")
        assert len(set(upper.targets.values())) == 1
        seen.append((upper.band, upper.targets["pull_aparts"], upper.rest_between_moves))
    assert seen == [
        ("green", 12, 15),
        ("green", 13, 10),
        ("green", 14, 5),
        ("green", 15, 0),
        ("blue", 10, 0),  # 15 on every exercise, pain-free: heavier band, back to 10
        ("blue", 12, 0),
        ("blue", 13, 0),
        ("green", 13, 10),  # low-back pain 5: less tension, reps kept, rest between moves back
        ("green", 14, 5),  # mild pain (1/10) away from the back: the plan climbs again
        ("green", 15, 0),
        ("blue", 10, 0),
        ("blue", 12, 0),
    ]


# ---------------------------------------------------------------- properties

SIDE = st.sampled_from(["left", "right", "same", None])
CHECKIN = st.builds(
    p.CheckIn,
    pain=st.integers(0, 10),
    areas=st.frozensets(st.sampled_from(p.AREAS)),
    weaker_side=SIDE,
)
STEP = st.tuples(
    CHECKIN,
    st.booleans(),  # finished
    st.booleans(),  # stopped (when not finished)
    st.lists(st.integers(-3, 3), min_size=1, max_size=6),  # actual - target, cycled over sets
)
HISTORY = st.tuples(
    st.sampled_from(list(CAT.routines)),
    st.sampled_from(BANDS),
    st.lists(STEP, min_size=1, max_size=8),
)


def _position(rx: p.RoutinePrescription, exercise: str) -> int:
    """Return an exercise's place on the (band, rung) ladder, lowest first."""
    ex = CAT.exercise(exercise)
    band = BANDS.index(rx.band) if ex.band and rx.band in BANDS else 0
    return band * p.rungs(ex) + p.rung(ex, *rx.load(ex))


Run = list[tuple[p.Prescription, p.Progression, p.CheckIn]]


def _run(history: tuple[str, str, list[tuple]]) -> Run:
    """Apply a random history; return (before, progression, check-in) for every session."""
    routine, band, steps = history
    rx = p.prescription_for(CAT, band)
    sides: list[str | None] = []
    out = []
    for checkin, finished, stopped, deltas in steps:
        sides.append(checkin.weaker_side)
        result = session(
            rx, routine, finished=finished, stopped=stopped and not finished,
            actual=lambda e, t, i, d=deltas: max(0, t + d[i % len(d)]),
        )  # fmt: skip
        progression = p.next_prescription(CAT, rx, result, checkin, sides)
        out.append((rx, progression, checkin))
        rx = progression.prescription
    return out


@settings(max_examples=60, deadline=None)
@given(HISTORY)
def test_property_at_most_one_rung_per_session(history: tuple[str, str, list[tuple]]) -> None:
    routine = history[0]
    for before, progression, _ in _run(history):
        old, new = before.routine(routine), progression.prescription.routine(routine)
        for exercise in old.targets:
            assert _position(new, exercise) - _position(old, exercise) <= 1


@settings(max_examples=60, deadline=None)
@given(HISTORY)
def test_property_never_above_the_top_of_the_range_and_always_inside_the_catalogue(
    history: tuple[str, str, list[tuple]],
) -> None:
    for _, progression, _ in _run(history):
        for key, rx in progression.prescription.routines.items():
            routine = CAT.routine(key)
            low, high = routine.rounds_allowed
            assert low <= rx.rounds <= high
            assert 0 <= rx.rest_between_moves <= routine.rest_between_moves
            assert rx.band in BANDS or (rx.band is None and not p.has_band(CAT, routine))
            assert rx.band is None or rx.band in CAT.bands_for(key)  # hip flexion: yellow/green
            assert rx.extra_side in (None, "left", "right")
            assert list(rx.targets) == list(p.default_routine(CAT, key, None).targets)
            for exercise, target in rx.targets.items():
                first, top = CAT.exercise(exercise).range
                assert first <= target <= top
            assert set(rx.holds) == {e for e in rx.targets if CAT.exercise(e).hold_range}
            for exercise, hold in rx.holds.items():
                shortest, longest = CAT.exercise(exercise).hold_range or (0, 0)
                assert shortest <= hold <= longest


@settings(max_examples=60, deadline=None)
@given(HISTORY)
def test_property_pain_of_six_or_more_never_progresses(
    history: tuple[str, str, list[tuple]],
) -> None:
    routine = history[0]
    for before, progression, checkin in _run(history):
        if checkin.pain < p.SEVERE_PAIN:
            continue
        old, new = before.routine(routine), progression.prescription.routine(routine)
        assert progression.safety
        assert all(_position(new, e) <= _position(old, e) for e in old.targets)
        assert BANDS.index(new.band or "yellow") <= BANDS.index(old.band or "yellow")
        assert new.rest_between_moves >= old.rest_between_moves and new.rounds <= old.rounds
        assert all(
            progression.prescription.routine(k).extra_side in (None, r.extra_side)
            for k, r in before.routines.items()
        )


def _raised(before: p.Prescription, after: p.Prescription, routine: str) -> list[str]:
    """Return what went up from one prescription to the next: targets, band or shorter rest."""
    old, new = before.routine(routine), after.routine(routine)
    ups = [e for e in old.targets if _position(new, e) > _position(old, e)]
    if BANDS.index(new.band or "yellow") > BANDS.index(old.band or "yellow"):
        ups.append("band")
    if new.rest_between_moves < old.rest_between_moves:
        ups.append("rest")
    return ups


@settings(max_examples=80, deadline=None)
@given(HISTORY)
def test_property_any_low_back_pain_never_raises_a_target_the_band_or_a_rest_step(
    history: tuple[str, str, list[tuple]],
) -> None:
    routine = history[0]
    for before, progression, checkin in _run(history):
        if checkin.low_back:
            assert _raised(before, progression.prescription, routine) == [], checkin


@settings(max_examples=80, deadline=None)
@given(HISTORY)
def test_property_low_back_pain_of_three_lowers_tension_before_volume(
    history: tuple[str, str, list[tuple]],
) -> None:
    routine = history[0]
    for before, progression, checkin in _run(history):
        if not checkin.low_back or checkin.pain < p.LOW_BACK_BACK_OFF:
            continue
        old, new = before.routine(routine), progression.prescription.routine(routine)
        if new.rounds < old.rounds:  # volume went down only once no lighter band was left
            assert p.lighter(old.band) is None, (old, new)
        assert new.rest_between_moves >= min(p.REST_BACK, CAT.routine(routine).rest_between_moves)


@settings(max_examples=60, deadline=None)
@given(HISTORY, st.frozensets(st.sampled_from(BANDS), min_size=1))
def test_property_only_owned_bands_are_prescribed(
    history: tuple[str, str, list[tuple]], owned: frozenset[str]
) -> None:
    routine, band, steps = history
    rx = p.prescription_for(CAT, p.fit_owned(band, owned))
    for checkin, finished, stopped, deltas in steps:
        result = session(
            rx, routine, finished=finished, stopped=stopped and not finished,
            actual=lambda e, t, i, d=deltas: max(0, t + d[i % len(d)]),
        )  # fmt: skip
        rx = p.next_prescription(CAT, rx, result, checkin, owned=owned).prescription
        for key, each in rx.routines.items():
            assert each.band is None or each.band in owned or each.band == CAT.band_cap(key), key


@settings(max_examples=40, deadline=None)
@given(HISTORY)
def test_property_the_same_input_gives_the_same_output(
    history: tuple[str, str, list[tuple]],
) -> None:
    assert [x[1] for x in _run(history)] == [x[1] for x in _run(history)]


# ---------------------------------------------------------------- plans built from a prescription


def test_plan_uses_the_prescribed_targets_and_rest() -> None:
    plan = build_plan(CAT, "upper", 2, "blue", targets={"pull_aparts": 13}, rest_between_moves=5)
    assert [(s.exercise, s.target, s.rest_after) for s in plan.steps] == [
        ("in_fronts_behinds", 10, 5),
        ("pull_aparts", 13, 5),
        ("touchdowns", 10, 45),  # rest between rounds stays
        ("in_fronts_behinds", 10, 5),
        ("pull_aparts", 13, 5),
        ("touchdowns", 10, 0),
    ]


def test_plan_adds_one_extra_set_on_the_weaker_side_in_the_last_round() -> None:
    plan = build_plan(CAT, "glutes_back", 2, "green", extra_side="left")
    last = [(s.exercise, s.side, s.extra, s.rest_after) for s in plan.steps if s.round_no == 2]
    assert last == [
        ("glute_bridge", None, False, 20),
        ("belly_leg_raises", "left", False, 20),
        ("belly_leg_raises", "left", True, 20),
        ("belly_leg_raises", "right", False, 20),
        ("side_steps", "left", False, 20),
        ("side_steps", "left", True, 30),  # seed 004: 30 s between the legs, after the extra set
        ("side_steps", "right", False, 20),
        ("band_squats", None, False, 0),
    ]
    assert {s.steps_in_round for s in plan.steps if s.round_no == 2} == {8}
    assert not any(s.extra for s in plan.steps if s.round_no == 1)


@pytest.mark.parametrize(
    ("used", "pain", "band"), [("blue", 0, "blue"), ("blue", 4, "green"), ("yellow", 4, "yellow")]
)
def test_the_band_used_today_becomes_the_plan_unless_heavier_on_a_painful_day(
    used: str, pain: int, band: str
) -> None:
    rx = start("upper")
    result = replace(session(rx, "upper"), band=used)
    after = p.next_prescription(CAT, rx, result, p.CheckIn(pain)).prescription.routine("upper")
    assert after.band == band


# ---------------------------------------------------------------- a choice of moves (seed 000)

QUICK_MOVES = ("foot_fire", "lateral_walks", "monster_walks", "diagonal_walks", "band_squats",
               "in_fronts_behinds", "pull_aparts", "touchdowns")  # fmt: skip


def picked(
    rx: p.Prescription, moves: tuple[str, ...], actual: int | None = None
) -> p.SessionResult:
    """Return the result of a quick session of the moves picked, every set done (or `actual`)."""
    quick = rx.routine("quick")
    plan = build_plan(CAT, "quick", 1, quick.band, targets=quick.targets, exercises=moves)
    sets = tuple(
        p.SetResult(s.exercise, s.side, s.target, s.target if actual is None else actual)
        for s in plan.steps
    )
    return p.SessionResult("quick", quick.band, True, False, sets)


def test_every_move_of_a_choice_has_a_target_from_the_start() -> None:
    quick = p.default_routine(CAT, "quick", "green")
    assert quick.targets == dict.fromkeys(QUICK_MOVES, 10)  # band squats: 10 within 8-10
    assert [e.key for e in p.routine_exercises(CAT, CAT.routine("quick"))] == list(QUICK_MOVES)


def test_only_the_moves_picked_climb_and_only_they_are_mentioned() -> None:
    rx = start("quick", targets={**dict.fromkeys(QUICK_MOVES, 10), "lateral_walks": 12})
    result = p.next_prescription(CAT, rx, picked(rx, ("lateral_walks", "touchdowns")), PAIN_FREE)
    assert targets(result.prescription, "quick") == {
        **dict.fromkeys(QUICK_MOVES, 10), "lateral_walks": 13, "touchdowns": 12,
    }  # fmt: skip
    assert result.reasons == (
        f"Lateral walks: 12 → 13 steps {EARNED}",
        f"Touchdowns: 10 → 12 reps {EARNED}",
    )
    short = p.next_prescription(
        CAT, rx, picked(rx, ("lateral_walks", "touchdowns"), actual=9), PAIN_FREE
    )
    assert targets(short.prescription, "quick") == targets(rx, "quick")


def test_a_choice_bands_up_only_once_every_move_it_offers_is_at_the_top() -> None:
    tops = {key: CAT.exercise(key).range[1] for key in QUICK_MOVES}
    almost = start("quick", targets={**tops, "diagonal_walks": 14})
    result = p.next_prescription(CAT, almost, picked(almost, ("monster_walks", "pull_aparts")),
                                 PAIN_FREE)  # fmt: skip
    assert result.prescription.routine("quick") == almost.routine("quick")
    assert (
        "Monster walks stays at 15 steps each (forward and back): the top of its range; the band "
        "goes up once every banded move is there"
    ) in result.reasons
    ready = start("quick", targets=tops)
    result = p.next_prescription(CAT, ready, picked(ready, ("monster_walks", "pull_aparts")),
                                 PAIN_FREE)  # fmt: skip
    after = result.prescription.routine("quick")
    assert after.band == "blue"
    assert after.targets == {key: CAT.exercise(key).range[0] for key in QUICK_MOVES}
    assert "Lateral walks: 15 → 10 steps (new band)" in result.reasons


def test_a_stored_target_of_a_move_outside_the_preselection_is_kept() -> None:
    stored = replace(start("quick").routine("quick"), targets={"lateral_walks": 14, "gone": 3})
    quick = p.prescription_for(CAT, "green", [stored]).routine("quick")
    assert quick.targets == {**dict.fromkeys(QUICK_MOVES, 10), "lateral_walks": 14}
    plan = build_plan(CAT, "quick", 1, "green", targets=quick.targets,
                      exercises=("lateral_walks", "pull_aparts"))  # fmt: skip
    assert [(s.exercise, s.target) for s in plan.steps] == [
        ("lateral_walks", 14), ("lateral_walks", 14), ("pull_aparts", 10),
    ]  # fmt: skip
