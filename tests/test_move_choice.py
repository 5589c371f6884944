"""Picking the moves of the quick warm-up, as plain data: plans, setup taps, masks and texts."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.coaching import session as s
from bot.coaching import session_texts as t
from bot.coaching import setup
from bot.coaching.catalogue import load_catalogue
from bot.coaching.setup import SetupTap, parse_setup

CAT = load_catalogue()
QUICK = CAT.routine("quick")
assert QUICK.choice is not None
CHOICE = QUICK.choice
OPTIONS = CHOICE.options
DEFAULT_MASK = setup.mask_of(CHOICE, CHOICE.defaults)


def mask(*moves: str) -> int:
    """Return the mask that ticks these moves."""
    return setup.mask_of(CHOICE, moves)


# ---------------------------------------------------------------- plans of the moves picked


def test_the_default_pick_is_the_routine_as_before() -> None:
    assert s.build_plan(CAT, "quick", 1, "green", exercises=CHOICE.defaults) == s.build_plan(
        CAT, "quick", 1, "green"
    )


def test_a_plan_of_chosen_moves_follows_the_choice_order_with_both_sides() -> None:
    plan = s.build_plan(
        CAT, "quick", 1, "blue", exercises=["touchdowns", "lateral_walks"],
        targets={"lateral_walks": 13, "monster_walks": 15},
    )  # fmt: skip
    assert [
        (p.exercise, p.side, p.target, p.band, p.step_no, p.steps_in_round) for p in plan.steps
    ] == [
        ("lateral_walks", "left", 13, "blue", 1, 3),
        ("lateral_walks", "right", 13, "blue", 2, 3),
        ("touchdowns", None, 10, "blue", 3, 3),
    ]
    assert [p.rest_after for p in plan.steps] == [0, 0, 0]
    assert s.Plan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


def test_the_extra_set_on_the_weaker_side_applies_to_a_chosen_per_side_move() -> None:
    plan = s.build_plan(
        CAT, "quick", 1, "green", exercises=["foot_fire", "pull_aparts"], extra_side="right"
    )
    assert [(p.exercise, p.side, p.extra) for p in plan.steps] == [
        ("foot_fire", "left", False),
        ("foot_fire", "right", False),
        ("foot_fire", "right", True),
        ("pull_aparts", None, False),
    ]


@pytest.mark.parametrize(
    ("routine", "moves", "problem"),
    [
        ("quick", ["pull_aparts"], "1 moves chosen, not 2 to 3"),
        ("quick", ["foot_fire", "lateral_walks", "monster_walks", "touchdowns"], "4 moves"),
        ("quick", ["pull_aparts", "hip_flexion"], "'hip_flexion' is not one of the moves"),
        ("quick", ["pull_aparts", "pull_aparts"], "a move is listed twice"),
        ("upper", ["pull_aparts", "touchdowns"], "has no choice of moves"),
    ],
)
def test_a_pick_the_choice_does_not_allow_is_refused(
    routine: str, moves: list[str], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        s.build_plan(CAT, routine, CAT.routine(routine).rounds, "green", exercises=moves)


# ---------------------------------------------------------------- masks


def test_masks_tick_moves_in_option_order() -> None:
    assert setup.moves_of(QUICK, DEFAULT_MASK) == ("monster_walks", "band_squats", "pull_aparts")
    assert setup.moves_of(QUICK, setup.toggled(DEFAULT_MASK, 1)) == (
        "lateral_walks", "monster_walks", "band_squats", "pull_aparts",
    )  # fmt: skip
    assert setup.toggled(setup.toggled(DEFAULT_MASK, 4), 4) == DEFAULT_MASK
    assert setup.moves_of(CAT.routine("upper"), 3) is None
    assert [setup.pick_allowed(QUICK, m) for m in (0, mask("foot_fire"), 3, 7, 15)] == [
        False, False, True, True, False,
    ]  # fmt: skip


def plan_json(*moves: str) -> dict[str, object]:
    """Return the stored plan of a quick session of these moves."""
    return s.build_plan(CAT, "quick", 1, "green", exercises=moves).to_json()


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        (None, DEFAULT_MASK),
        (plan_json("diagonal_walks", "lateral_walks"), mask("lateral_walks", "diagonal_walks")),
        (plan_json("foot_fire", "touchdowns", "in_fronts_behinds"),
         mask("foot_fire", "in_fronts_behinds", "touchdowns")),
        ({"steps": [{"exercise": "hip_flexion"}, {"exercise": "pull_aparts"}]}, DEFAULT_MASK),
        ({"steps": [{"exercise": "pull_aparts"}]}, DEFAULT_MASK),  # one move: no longer allowed
        ({"steps": "garbled"}, DEFAULT_MASK),
        ({"steps": [3, {"exercise": None}]}, DEFAULT_MASK),
        ({}, DEFAULT_MASK),
    ],
)  # fmt: skip
def test_the_last_pick_is_ticked_first_when_it_is_still_allowed(
    last: dict[str, object] | None, expected: int
) -> None:
    assert setup.remembered_mask(QUICK, last) == expected


# ---------------------------------------------------------------- setup buttons


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("wu:r:upper", SetupTap("r", "upper")),
        ("wu:r:quick", SetupTap("r", "quick")),
        ("wu:n:upper:3", SetupTap("n", "upper", rounds=3)),
        ("wu:b:upper:3:blue", SetupTap("b", "upper", rounds=3, band="blue")),
        ("wu:m:quick:0", SetupTap("m", "quick", mask=0)),
        ("wu:m:quick:255", SetupTap("m", "quick", mask=255)),  # all eight ticked: Go says no
        ("wu:g:quick:1", SetupTap("g", "quick", mask=1)),  # one ticked: Go says how many
        ("wu:g:quick:84", SetupTap("g", "quick", mask=84)),
        ("wu:b:quick:1:green:84", SetupTap("b", "quick", rounds=1, band="green", mask=84)),
        ("wu:n:quick:1:3", SetupTap("n", "quick", rounds=1, mask=3)),
        ("wu:resume:12", SetupTap("resume", session_id=12)),
        ("wu:abandon:12", SetupTap("abandon", session_id=12)),
        # forged or impossible
        ("wu:m:quick:256", None),  # a bit past the eight moves
        ("wu:g:quick:99999999", None),
        ("wu:g:quick:-1", None),
        ("wu:g:quick:007", None),
        ("wu:g:quick:²", None),
        ("wu:g:quick", None),
        ("wu:g:quick:3:3", None),
        ("wu:b:quick:1:green", None),  # no moves
        ("wu:b:quick:1:green:1", None),  # one move
        ("wu:b:quick:1:green:15", None),  # four moves
        ("wu:b:quick:2:green:3", None),  # quick has one round
        ("wu:n:quick:1:7:1", None),
        ("wu:m:upper:3", None),  # no choice of moves in upper
        ("wu:g:upper:3", None),
        ("wu:b:upper:2:green:3", None),
        ("wu:n:upper:2:3", None),
        ("wu:r:quick:84", None),
        ("wu:n:upper:²", None),
        ("wu:n:upper:02", None),
        ("wu:n:upper:9", None),
        ("wu:b:upper:2:pink", None),
        ("wu:r:cartwheels", None),
        ("wu:x:upper", None),
        ("wu:q:glutes_back:y", SetupTap("q", "glutes_back", answer="y")),
        ("wu:q:glutes_back:n", SetupTap("q", "glutes_back", answer="n")),
        ("wu:q:quick:y:3", None),  # monster walks and lateral walks: no band squats to ask about
        ("wu:q:glutes_back:maybe", None),
        ("wu:q:upper:y", None),  # no band squats in upper
        ("wu:q:glutes_back", None),
        ("wu:q:quick:y", None),  # no moves
        ("wu:resume:abc", None),
        ("wu:resume:1:2", None),
        ("wu:", None),
        ("wu", None),
        ("ws:1:2:d", None),
        ("", None),
    ],
)
def test_parse_setup(data: str, expected: SetupTap | None) -> None:
    assert parse_setup(CAT, data) == expected


def test_the_squat_question_needs_band_squats_in_the_pick() -> None:
    mask = setup.mask_of(CAT.routine("quick").choice, ["monster_walks", "band_squats"])  # type: ignore[arg-type]
    assert parse_setup(CAT, f"wu:q:quick:n:{mask}") == SetupTap("q", "quick", mask=mask, answer="n")


@given(
    kind=st.sampled_from(["r", "m", "g", "q", "n", "b"]),
    routine=st.sampled_from(list(CAT.routines)),
    band=st.sampled_from(["yellow", "green", "blue", "black"]),
    data=st.data(),
)
def test_setup_taps_round_trip_within_64_bytes(
    kind: str, routine: str, band: str, data: st.DataObject
) -> None:
    chosen = CAT.routine(routine)
    if chosen.choice is None and kind in ("m", "g"):
        return
    if kind == "b" and band not in CAT.bands_for(routine):
        assert parse_setup(CAT, f"wu:b:{routine}:{chosen.rounds}:{band}") is None  # too heavy
        return
    masks = [m for m in range(1 << len(OPTIONS)) if setup.pick_allowed(chosen, m)]
    picked = data.draw(st.sampled_from(masks)) if chosen.choice and kind != "r" else None
    if kind == "q" and setup.waiting_move(CAT, chosen, setup.moves_of(chosen, picked)) is None:
        assert parse_setup(CAT, f"wu:q:{routine}:y") is None  # nothing to ask about
        return
    rounds = data.draw(st.sampled_from(chosen.round_choices)) if kind in ("n", "b") else None
    answer = data.draw(st.sampled_from(["y", "n"])) if kind == "q" else None
    tap = SetupTap(kind, routine, rounds, band if kind == "b" else None, picked, answer=answer)
    encoded = tap.encode()
    assert len(encoded.encode()) <= 64
    assert parse_setup(CAT, encoded) == tap


# ---------------------------------------------------------------- texts


def test_the_picker_says_how_many_and_what_is_ticked() -> None:
    assert t.moves_text(CAT, QUICK.name, CHOICE, CHOICE.defaults) == (
        "Quick pre-lift warm-up: which moves today? Tick 2 or 3, one set of each, then tap Go."
        "\n\nTicked: Monster walks, Band squats and Pull-aparts."
    )
    assert t.moves_text(CAT, QUICK.name, CHOICE, ()).endswith("\n\nNothing ticked yet.")
    assert t.names(CAT, ["touchdowns"]) == "Touchdowns"
