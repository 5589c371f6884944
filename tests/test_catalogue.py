"""The catalogue file: the shipped one loads and matches the seeds; bad files fail precisely."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from bot.coaching import catalogue as cat
from bot.coaching.catalogue import CatalogueError, load_catalogue, parse_catalogue

SHIPPED = load_catalogue()
CHOOSE = ["routines", "quick", "choose"]


def shipped_raw() -> dict[str, Any]:
    """Return a fresh deep copy of the shipped file's parsed TOML."""
    return copy.deepcopy(tomllib.loads(cat.default_path().read_text(encoding="utf-8")))


def test_shipped_catalogue_has_the_six_routines() -> None:
    assert list(SHIPPED.routines) == [
        "lower",
        "upper",
        "superset",
        "glutes_back",
        "hip_flexion",
        "quick",
    ]


def test_every_step_names_a_known_exercise_with_a_valid_side_and_target() -> None:
    for routine in SHIPPED.routines.values():
        for step in routine.steps:
            exercise = SHIPPED.exercise(step.exercise)
            assert (step.side in ("left", "right")) == exercise.per_side, (routine.key, step)
            low, high = exercise.range
            assert low <= step.target <= high


def test_every_exercise_has_two_to_four_short_cues() -> None:
    for exercise in SHIPPED.exercises.values():
        assert 2 <= len(exercise.cues) <= 4
        assert all(0 < len(c) <= cat.MAX_CUE_LENGTH for c in exercise.cues)


def steps_of(key: str) -> list[tuple[str, str | None, int]]:
    """Return a routine's steps as (exercise, side, target)."""
    return [(s.exercise, s.side, s.target) for s in SHIPPED.routine(key).steps]


def test_lower_body_matches_seed_001() -> None:
    assert steps_of("lower") == [
        ("foot_fire", "left", 10),
        ("lateral_walks", "left", 10),
        ("foot_fire", "right", 10),
        ("lateral_walks", "right", 10),
        ("monster_walks", None, 10),
        ("diagonal_walks", None, 10),
    ]
    lower = SHIPPED.routine("lower")
    assert lower.rounds_allowed == (2, 4) and lower.rounds in (2, 3, 4)
    assert 10 <= lower.rest_between_moves <= 20 and 30 <= lower.rest_between_rounds <= 45
    assert SHIPPED.exercise("foot_fire").unit == "seconds"
    assert SHIPPED.exercise("lateral_walks").unit == "steps"
    assert SHIPPED.exercise("monster_walks").each == "forward and back"
    assert SHIPPED.exercise("diagonal_walks").each == "forward and back"


def test_upper_body_matches_seed_001() -> None:
    assert steps_of("upper") == [
        ("in_fronts_behinds", None, 10),
        ("pull_aparts", None, 10),
        ("touchdowns", None, 10),
    ]
    upper, lower = SHIPPED.routine("upper"), SHIPPED.routine("lower")
    assert upper.rounds_allowed == lower.rounds_allowed
    assert (upper.rest_between_moves, upper.rest_between_rounds) == (
        lower.rest_between_moves,
        lower.rest_between_rounds,
    )


def test_superset_does_lower_then_upper_starting_with_20_s_between_moves() -> None:
    assert steps_of("superset") == steps_of("lower") + steps_of("upper")
    assert SHIPPED.routine("superset").rest_between_moves == 20  # seed 001: 10-20 s at first


def test_glutes_for_back_relief_matches_seed_004() -> None:
    routine = SHIPPED.routine("glutes_back")
    assert routine.rounds == 2
    assert steps_of("glutes_back") == [
        ("glute_squeeze", None, 2),  # a couple of 8 s holds…
        ("squeeze_build", None, 3),  # …then 3-4 slow build-ups from small to full
        ("glute_bridge", None, 10),
        ("belly_leg_raises", "left", 6),  # 6-10 raises, each leg
        ("belly_leg_raises", "right", 6),
        ("side_steps", "left", 10),
        ("side_steps", "right", 10),
        ("band_squats", None, 8),
    ]
    assert routine.steps[0].first_round_only and routine.steps[1].first_round_only
    assert routine.steps[5].rest_after == 30
    squeeze = SHIPPED.exercise("glute_squeeze")
    assert (squeeze.unit, squeeze.hold_seconds, squeeze.range) == ("hold", 8, (2, 2))
    assert SHIPPED.exercise("squeeze_build").range == (3, 4)
    assert routine.note is not None and "McGill Big 3" in routine.note
    raises = SHIPPED.exercise("belly_leg_raises")
    assert (raises.unit, raises.hold_seconds, raises.range) == ("hold", 3, (6, 10))
    assert raises.hold_range == (3, 6)  # seed 004: 6-10 raises, each held 3-6 s
    assert SHIPPED.exercise("glute_bridge").range == (10, 15)
    assert SHIPPED.exercise("side_steps").range == (10, 12)
    assert SHIPPED.exercise("band_squats").range == (8, 10)


def test_hip_flexion_is_per_leg_on_a_band() -> None:
    assert steps_of("hip_flexion") == [("hip_flexion", "left", 10), ("hip_flexion", "right", 10)]
    exercise = SHIPPED.exercise("hip_flexion")
    assert exercise.band and exercise.per_side and exercise.seed == "003"
    assert any("lighter band" in c.lower() for c in exercise.cues)


def test_quick_pre_lift_is_one_set_of_ten_of_a_few_moves() -> None:
    quick = SHIPPED.routine("quick")
    assert quick.rounds_allowed == (1, 1) and 2 <= len(quick.steps) <= 3
    assert all(s.target == 10 for s in quick.steps)
    assert all(SHIPPED.exercise(s.exercise).band for s in quick.steps)


def test_quick_pre_lift_offers_two_or_three_banded_moves_of_seeds_001_and_004() -> None:
    choice = SHIPPED.routine("quick").choice
    assert choice is not None and (choice.fewest, choice.most) == (2, 3)
    assert choice.options == (
        "foot_fire",
        "lateral_walks",
        "monster_walks",
        "diagonal_walks",
        "band_squats",
        "in_fronts_behinds",
        "pull_aparts",
        "touchdowns",
    )
    assert choice.defaults == ("monster_walks", "band_squats", "pull_aparts")
    for key in choice.options:
        exercise = SHIPPED.exercise(key)
        assert exercise.band and exercise.seed in ("001", "004"), key
    # Seed 000: one set of 10-15 of each; per-side moves get a set on each side.
    assert choice.targets == dict.fromkeys(choice.options, 10)
    assert [(s.side, s.target) for s in choice.steps["lateral_walks"]] == [
        ("left", 10),
        ("right", 10),
    ]
    assert [
        s.exercise for s in SHIPPED.routine("quick").steps_for(["touchdowns", "foot_fire"])
    ] == [
        "foot_fire",
        "foot_fire",
        "touchdowns",
    ]
    assert SHIPPED.routine("lower").choice is None


def test_a_chosen_move_starts_at_its_default_pulled_into_the_choice_window() -> None:
    quick = ["routines", "quick"]
    without_squats = mutate(
        [*quick, "steps"], [{"exercise": "monster_walks"}, {"exercise": "touchdowns"}]
    )
    choice = parse_catalogue(without_squats, "coach.toml").routine("quick").choice
    assert choice is not None and choice.targets["band_squats"] == 10  # default 8, range 8-10
    del without_squats["routines"]["quick"]["choose"]["range"]
    choice = parse_catalogue(without_squats, "coach.toml").routine("quick").choice
    assert choice is not None and choice.targets["band_squats"] == 8


def test_ladder_range_from_seed_001_for_its_exercises() -> None:
    for key in ("foot_fire", "lateral_walks", "monster_walks", "diagonal_walks", "pull_aparts"):
        assert SHIPPED.exercise(key).range == (10, 15)


def mutate(path: list[str | int], value: Any) -> dict[str, Any]:
    """Return the shipped data with one value replaced (or deleted when value is ...)."""
    raw = shipped_raw()
    node: Any = raw
    for part in path[:-1]:
        node = node[part]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["exercises", "foot_fire", "unit"], "minutes", "exercise 'foot_fire': field 'unit'"),
        (["exercises", "foot_fire", "name"], ..., "exercise 'foot_fire': field 'name' is missing"),
        (["exercises", "foot_fire", "name"], "  ", "exercise 'foot_fire': field 'name' must be"),
        (["exercises", "foot_fire", "target"], 30, "field 'target' must be inside range"),
        (["exercises", "foot_fire", "target"], "ten", "field 'target' must be a whole number"),
        (["exercises", "foot_fire", "target"], True, "field 'target' must be a whole number"),
        (["exercises", "foot_fire", "range"], [15, 10], "field 'range' must have"),
        (["exercises", "foot_fire", "range"], [10], "field 'range' must be [min, max]"),
        (["exercises", "foot_fire", "per_side"], "yes", "field 'per_side' must be true or false"),
        (["exercises", "foot_fire", "cues"], ["one"], "field 'cues' must be a list of 2 to 4"),
        (["exercises", "foot_fire", "cues"], ["a", "b", "c", "d", "e"], "field 'cues'"),
        (["exercises", "foot_fire", "cues"], ["ok", ""], "field 'cues[1]'"),
        (["exercises", "foot_fire", "cues"], ["ok", "x" * 200], "field 'cues[1]'"),
        (["exercises", "foot_fire", "colour"], "red", "field 'colour' is not a known field"),
        (["exercises", "foot_fire", "hold_seconds"], 5, "field 'hold_seconds' is only allowed"),
        (["exercises", "glute_squeeze", "hold_seconds"], ..., "'glute_squeeze': field 'hold_sec"),
        (["exercises", "foot_fire", "hold_range"], [3, 6], "field 'hold_range' is only allowed"),
        (["exercises", "band_squats", "stand_in"], "cartwheels", "field 'stand_in' must name"),
        (["exercises", "band_squats", "stand_in"], "band_squats", "field 'stand_in' must name"),
        (["exercises", "band_squats", "stand_in"], "side_steps", "'band_squats': field 'stand_in'"),
        (["exercises", "belly_leg_raises", "hold_range"], [4, 6], "first hold of hold_range"),
        (["exercises", "belly_leg_raises", "hold_range"], [6, 3], "field 'hold_range' must have"),
        (["routines", "lower", "rounds"], 6, "routine 'lower': field 'rounds' must be inside"),
        (["routines", "lower", "rounds_allowed"], [0, 3], "routine 'lower': field 'rounds_allow"),
        (["routines", "lower", "goals"], ["fun"], "routine 'lower': field 'goals'"),
        (["routines", "lower", "steps"], [], "routine 'lower': field 'steps' must be a non-empty"),
        (["routines", "lower", "rest_between_moves"], -5, "field 'rest_between_moves' must be"),
        (["routines", "lower", "name"], ..., "routine 'lower': field 'name' is missing"),
        (
            ["routines", "lower", "steps", 1, "exercise"],
            "cartwheels",
            "routine 'lower' step 2: field 'exercise' names an unknown exercise 'cartwheels'",
        ),
        (["routines", "lower", "steps", 0, "side"], ..., "routine 'lower' step 1: field 'side'"),
        (["routines", "lower", "steps", 0, "side"], "up", "routine 'lower' step 1: field 'side'"),
        (["routines", "lower", "steps", 4, "side"], "left", "step 5: field 'side' is not allowed"),
        (["routines", "lower", "steps", 1, "target"], 99, "step 2: field 'target' must be betw"),
        (["routines", "lower", "steps", 1, "reps"], 9, "step 2: field 'reps' is not a known"),
        (["routines", "quick", "choose"], 3, "routine 'quick': field 'choose' must be a table"),
        (
            [*CHOOSE, "from"],
            ["monster_walks", "band_squats", "pull_aparts", "cartwheels"],
            "routine 'quick': field 'choose.from' names an unknown exercise 'cartwheels'",
        ),
        (
            [*CHOOSE, "from"],
            ["monster_walks", "band_squats", "pull_aparts", "band_squats"],
            "routine 'quick': field 'choose.from' lists 'band_squats' more than once",
        ),
        ([*CHOOSE, "from"], [], "routine 'quick': field 'choose.from' must be a non-empty list"),
        ([*CHOOSE, "from"], "pull_aparts", "field 'choose.from' must be a non-empty list"),
        ([*CHOOSE, "from"], ["pull_aparts"] * 13, "field 'choose.from' may list at most 12"),
        ([*CHOOSE, "min"], ..., "routine 'quick': field 'choose.min' is missing"),
        ([*CHOOSE, "min"], 0, "routine 'quick': field 'choose.min' must be between 1 and 8"),
        (
            [*CHOOSE, "min"],
            4,
            "routine 'quick': field 'choose.max' must be at least min (4), got 3",
        ),
        ([*CHOOSE, "max"], 9, "routine 'quick': field 'choose.max' must be between 1 and 8, got 9"),
        ([*CHOOSE, "max"], "three", "field 'choose.max' must be a whole number"),
        ([*CHOOSE, "pick"], 2, "routine 'quick': field 'choose.pick' is not a known field"),
        ([*CHOOSE, "range"], [15, 10], "routine 'quick': field 'choose.range' must have"),
        (
            [*CHOOSE, "range"],
            [16, 20],
            "field 'choose.range' [16, 20] misses the range [10, 15] of 'foot_fire'",
        ),
        (
            [*CHOOSE, "from"],
            ["monster_walks", "band_squats", "touchdowns"],
            "routine 'quick': field 'steps' names 'pull_aparts', which is not in choose.from",
        ),
        (
            [*CHOOSE, "max"],
            2,
            "routine 'quick': field 'steps' preselect 3 moves, but choose allows 2 to 2",
        ),
        (["routines", "quick", "suggested"], True, "only one routine may be suggested"),
        (["routines", "quick", "suggested"], "yes", "field 'suggested' must be true or false"),
        (["exercises", "hip_flexion", "max_band"], "purple", "field 'max_band' must be one of"),
        (["exercises", "pull_aparts", "max_band"], "yellow", None),
        (["exercises", "lateral_walks", "side_means"], ..., "field 'side_means' per-side moves"),
        (["exercises", "lateral_walks", "side_means"], "leads", "field 'side_means' per-side"),
        (["exercises", "pull_aparts", "setup"], ..., "exercise 'pull_aparts': field 'setup' is"),
        (["exercises", "pull_aparts", "setup"], "x" * 91, "field 'setup' must be one short line"),
    ],
)
def test_each_bad_field_is_named(path: list[str | int], value: Any, expected: str | None) -> None:
    if expected is None:  # a valid value: accepted
        parse_catalogue(mutate(path, value), "coach.toml")
        return
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(mutate(path, value), "coach.toml")
    message = str(info.value)
    assert message.startswith("coach.toml: ")
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({}, "[exercises] is missing or empty"),
        ({"exercises": {"a": {}}}, "exercise 'a': field"),
        ({"exercises": {"a": 3}}, "exercise 'a' must be a table"),
        ({"workouts": {}}, "unknown top-level table [workouts]"),
    ],
)
def test_structural_errors_are_named(raw: dict[str, Any], expected: str) -> None:
    with pytest.raises(CatalogueError, match=r"^coach\.toml: ") as info:
        parse_catalogue(raw, "coach.toml")
    assert expected in str(info.value)


def test_missing_routines_table_is_named() -> None:
    raw = shipped_raw()
    del raw["routines"]
    with pytest.raises(CatalogueError, match=r"\[routines\] is missing or empty"):
        parse_catalogue(raw, "coach.toml")


def test_unreadable_and_malformed_files_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(CatalogueError, match=r"nope\.toml: catalogue file not found"):
        load_catalogue(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[exercises\nname = 1\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"broken\.toml: not valid TOML"):
        load_catalogue(broken)


def test_a_valid_edited_file_loads(tmp_path: Path) -> None:
    original = cat.default_path().read_text(encoding="utf-8")
    marker = '[routines.upper]\nname = "Upper-body activation"\n'
    assert original.count(marker) == 1
    edited_text = original.replace(marker, marker.replace("Upper-body", "Upper back"))
    edited = tmp_path / "coach.toml"
    edited.write_text(edited_text, encoding="utf-8")
    assert load_catalogue(edited).routine("upper").name == "Upper back activation"


def test_bad_catalogue_stops_the_cli_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "catalogue.toml"
    bad.write_text('[exercises.x]\nname = "X"\n', encoding="utf-8")
    monkeypatch.setattr(cat, "default_path", lambda: bad)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:AAFakeTokenForTestsOnly_abcdefghijk")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert cli.main(["run"]) == cli.EXIT_CONFIG
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("bandcoach: ") and "catalogue.toml: exercise 'x': field" in err
