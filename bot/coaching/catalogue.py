"""The exercise and routine catalogue: typed, frozen, loaded from TOML and validated at start-up."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bot.coaching.profile import BANDS

UNITS: tuple[str, ...] = ("reps", "steps", "seconds", "hold")
TIMED_UNITS: frozenset[str] = frozenset({"seconds", "hold"})
SIDES: tuple[str, ...] = ("left", "right")
GOAL_KEYS: tuple[str, ...] = ("lift", "back")
MAX_TARGET = 200  # the same ceiling a typed count has
MAX_REST_SECONDS = 600
MAX_ROUNDS = 10
MAX_CUE_LENGTH = 90
MAX_OPTIONS = 12  # a routine's choice of moves: keeps the keyboard usable and the bit mask short

_EXERCISE_FIELDS = frozenset(
    {
        "name",
        "unit",
        "per_side",
        "band",
        "target",
        "range",
        "hold_seconds",
        "hold_range",
        "each",
        "cues",
        "seed",
        "setup",
        "side_means",
        "max_band",
        "stand_in",
    }
)
_ROUTINE_FIELDS = frozenset(
    {
        "name",
        "seed",
        "goals",
        "rounds",
        "rounds_allowed",
        "rest_between_moves",
        "rest_between_rounds",
        "steps",
        "choose",
        "suggested",
        "note",
    }
)
_CHOICE_FIELDS = frozenset({"from", "min", "max", "range"})
_STEP_FIELDS = frozenset({"exercise", "side", "target", "rest_after", "first_round_only"})


class CatalogueError(ValueError):
    """The catalogue file is missing, unreadable or has an invalid entry."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: how it is measured, its range and its cues."""

    key: str
    name: str
    unit: str
    per_side: bool
    band: bool
    target: int
    range: tuple[int, int]
    cues: tuple[str, ...]
    seed: str
    hold_seconds: int | None = None
    each: str | None = None
    setup: str = ""  # where the band goes and how to stand or lie
    side_means: str | None = None  # per-side moves: what "left" means, e.g. "{side} foot leads"
    max_band: str | None = None  # the heaviest band the move may be prescribed (seed 003)
    hold_range: tuple[int, int] | None = None  # holds that grow: [first, longest] seconds
    stand_in: str | None = None  # done instead until bodyweight squats are pain-free (seed 004)

    def hold_at(self, holds: Mapping[str, int]) -> int | None:
        """Return the hold a plan asks for: its own for a growing hold, else the catalogue's."""
        return holds.get(self.key, self.hold_seconds) if self.hold_range else self.hold_seconds

    @property
    def timed(self) -> bool:
        """Return True when the exercise runs on a countdown (seconds or holds)."""
        return self.unit in TIMED_UNITS


@dataclass(frozen=True)
class RoutineStep:
    """One step of a routine: an exercise, a side for per-side moves, and a target."""

    exercise: str
    side: str | None
    target: int
    rest_after: int | None = None
    first_round_only: bool = False


@dataclass(frozen=True)
class Choice:
    """The moves a user picks a routine's steps from, how many, and the steps each one adds."""

    options: tuple[str, ...]  # exercise keys, in the order chosen moves are done
    fewest: int
    most: int
    defaults: tuple[str, ...]  # preselected: the exercises of the routine's own steps
    steps: Mapping[str, tuple[RoutineStep, ...]]  # per option: its steps in the routine

    @property
    def targets(self) -> dict[str, int]:
        """Return each option's starting target, in option order."""
        return {key: self.steps[key][0].target for key in self.options}

    def problem(self, moves: Sequence[str]) -> str | None:
        """Return why a list of moves is not a valid pick, or None when it is."""
        unknown = [m for m in moves if m not in self.options]
        if unknown:
            return f"{unknown[0]!r} is not one of the moves to choose from"
        if len(set(moves)) != len(moves):
            return "a move is listed twice"
        if not self.fewest <= len(moves) <= self.most:
            return f"{len(moves)} moves chosen, not {self.fewest} to {self.most}"
        return None


@dataclass(frozen=True)
class Routine:
    """An ordered list of steps with its rounds and rests (and maybe a choice of moves)."""

    key: str
    name: str
    seed: str
    goals: tuple[str, ...]
    steps: tuple[RoutineStep, ...]
    rounds: int
    rounds_allowed: tuple[int, int]
    rest_between_moves: int
    rest_between_rounds: int
    choice: Choice | None = None
    suggested: bool = False  # the ⭐ default session, whatever the goal
    note: str | None = None  # one line shown when the routine starts

    def steps_for(self, moves: Sequence[str] | None) -> tuple[RoutineStep, ...]:
        """Return the steps of a session: the routine's own, or those of the moves chosen.

        Chosen moves are done in the order of the choice's options, whatever order they came in.
        """
        if moves is None:
            return self.steps
        if self.choice is None:
            raise ValueError(f"{self.key}: this routine has no choice of moves")
        problem = self.choice.problem(moves)
        if problem is not None:
            raise ValueError(f"{self.key}: {problem}")
        chosen = set(moves)
        options = self.choice.options
        return tuple(s for key in options if key in chosen for s in self.choice.steps[key])

    @property
    def round_choices(self) -> tuple[int, ...]:
        """Return every allowed number of rounds, lowest first."""
        low, high = self.rounds_allowed
        return tuple(range(low, high + 1))


@dataclass(frozen=True)
class Catalogue:
    """Every exercise and routine, keyed and in file order."""

    exercises: Mapping[str, Exercise]
    routines: Mapping[str, Routine]
    # Results worked out from the catalogue alone (it never changes once loaded), by key.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def exercise(self, key: str) -> Exercise:
        """Return the exercise with this key."""
        return self.exercises[key]

    def routine(self, key: str) -> Routine:
        """Return the routine with this key."""
        return self.routines[key]

    def band_cap(self, key: str) -> str | None:
        """Return the heaviest band a routine may use: the lightest max_band of its moves."""
        routine = self.routine(key)
        moves = routine.choice.options if routine.choice else [s.exercise for s in routine.steps]
        caps = [c for c in (self.exercise(m).max_band for m in moves) if c is not None]
        return min(caps, key=BANDS.index) if caps else None

    def stand_ins(self) -> dict[str, str]:
        """Return each move that waits for pain-free bodyweight squats, and the one done instead."""
        return {k: e.stand_in for k, e in self.exercises.items() if e.stand_in is not None}

    def bands_for(self, key: str) -> tuple[str, ...]:
        """Return the bands a routine may be done with, lightest first."""
        cap = self.band_cap(key)
        return BANDS if cap is None else BANDS[: BANDS.index(cap) + 1]


DEFAULT_CATALOGUE = "catalogue.toml"


def default_path() -> Path:
    """Return the path of the catalogue shipped in the package."""
    return Path(str(resources.files("bot.coaching") / "data" / DEFAULT_CATALOGUE))


class _Checker:
    """Collects the location (file, entry, field) of a value being validated."""

    def __init__(self, source: str, entry: str) -> None:
        """Remember the file and the entry the values come from."""
        self.source = source
        self.entry = entry

    def fail(self, field: str, problem: str) -> CatalogueError:
        """Return an error naming the file, the entry and the field."""
        return CatalogueError(f"{self.source}: {self.entry}: field '{field}' {problem}")

    def get(self, data: Mapping[str, Any], field: str, default: Any = ...) -> Any:
        """Return a field, or raise when it is required and missing."""
        if field in data:
            return data[field]
        if default is ...:
            raise self.fail(field, "is missing")
        return default

    def text(self, data: Mapping[str, Any], field: str, *, optional: bool = False) -> str | None:
        """Return a non-empty string field."""
        value = self.get(data, field, None if optional else ...)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, f"must be non-empty text, got {value!r}")
        return value.strip()

    def flag(self, data: Mapping[str, Any], field: str, default: Any = ...) -> bool:
        """Return a boolean field."""
        value = self.get(data, field, default)
        if not isinstance(value, bool):
            raise self.fail(field, f"must be true or false, got {value!r}")
        return value

    def integer(
        self, data: Mapping[str, Any], field: str, low: int, high: int, default: Any = ...
    ) -> int:
        """Return a whole-number field within [low, high]."""
        value = self.get(data, field, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(field, f"must be a whole number, got {value!r}")
        if not low <= value <= high:
            raise self.fail(field, f"must be between {low} and {high}, got {value}")
        return value

    def pair(self, data: Mapping[str, Any], field: str, low: int, high: int) -> tuple[int, int]:
        """Return a [min, max] field of whole numbers within [low, high]."""
        value = self.get(data, field)
        if (
            not isinstance(value, list)
            or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in value)
        ):
            raise self.fail(field, f"must be [min, max] whole numbers, got {value!r}")
        first, second = value
        if not low <= first <= second <= high:
            raise self.fail(
                field, f"must have {low} <= min <= max <= {high}, got [{first}, {second}]"
            )
        return first, second

    def unknown(self, data: Mapping[str, Any], allowed: frozenset[str]) -> None:
        """Refuse fields the loader does not know (usually a typo)."""
        for name in data:
            if name not in allowed:
                raise self.fail(name, f"is not a known field (known: {', '.join(sorted(allowed))})")


def _parse_exercise(source: str, key: str, data: Any) -> Exercise:
    """Validate one [exercises.<key>] table and return the Exercise."""
    check = _Checker(source, f"exercise '{key}'")
    if not isinstance(data, dict):
        raise CatalogueError(f"{source}: exercise '{key}' must be a table")
    check.unknown(data, _EXERCISE_FIELDS)
    unit = check.text(data, "unit")
    if unit not in UNITS:
        raise check.fail("unit", f"must be one of {', '.join(UNITS)}, got {unit!r}")
    low, high = check.pair(data, "range", 1, MAX_TARGET)
    target = check.integer(data, "target", 1, MAX_TARGET)
    if not low <= target <= high:
        raise check.fail("target", f"must be inside range [{low}, {high}], got {target}")
    hold: int | None = None
    hold_range: tuple[int, int] | None = None
    if unit == "hold":
        hold = check.integer(data, "hold_seconds", 1, 60)
        if "hold_range" in data:
            hold_range = check.pair(data, "hold_range", 1, 60)
            if hold != hold_range[0]:
                raise check.fail(
                    "hold_seconds", f"must be the first hold of hold_range {hold_range}"
                )
    else:
        for field in ("hold_seconds", "hold_range"):
            if field in data:
                raise check.fail(field, f"is only allowed with unit 'hold', not {unit!r}")
    cues = check.get(data, "cues")
    if not isinstance(cues, list) or not 2 <= len(cues) <= 4:
        raise check.fail("cues", f"must be a list of 2 to 4 cues, got {cues!r}")
    for i, cue in enumerate(cues):
        if not isinstance(cue, str) or not cue.strip() or len(cue) > MAX_CUE_LENGTH:
            raise check.fail(
                f"cues[{i}]", f"must be short non-empty text (<= {MAX_CUE_LENGTH} characters)"
            )
    name = check.text(data, "name")
    seed = check.text(data, "seed")
    setup = check.text(data, "setup")
    assert name is not None and seed is not None and unit is not None and setup is not None
    if len(setup) > MAX_CUE_LENGTH:
        raise check.fail("setup", f"must be one short line (<= {MAX_CUE_LENGTH} characters)")
    per_side = check.flag(data, "per_side")
    side_means = check.text(data, "side_means", optional=True)
    if per_side != (side_means is not None) or (side_means and "{side}" not in side_means):
        raise check.fail("side_means", "per-side moves say what a side means, with {side}")
    band = check.flag(data, "band")
    max_band = check.text(data, "max_band", optional=True)
    if max_band is not None and (not band or max_band not in BANDS):
        raise check.fail("max_band", f"must be one of {', '.join(BANDS)} on a banded move")
    return Exercise(
        key=key,
        name=name,
        unit=unit,
        per_side=per_side,
        band=band,
        target=target,
        range=(low, high),
        cues=tuple(c.strip() for c in cues),
        seed=seed,
        hold_seconds=hold,
        each=check.text(data, "each", optional=True),
        setup=setup,
        side_means=side_means,
        max_band=max_band,
        hold_range=hold_range,
        stand_in=check.text(data, "stand_in", optional=True),
    )


def _parse_step(
    source: str, routine: str, index: int, data: Any, exercises: Mapping[str, Exercise]
) -> RoutineStep:
    """Validate one step of a routine against the known exercises."""
    check = _Checker(source, f"routine '{routine}' step {index + 1}")
    if not isinstance(data, dict):
        raise CatalogueError(f"{source}: routine '{routine}' step {index + 1} must be a table")
    check.unknown(data, _STEP_FIELDS)
    key = check.text(data, "exercise")
    if key is None or key not in exercises:
        raise check.fail("exercise", f"names an unknown exercise {key!r}")
    exercise = exercises[key]
    side = check.get(data, "side", None)
    if exercise.per_side and side not in SIDES:
        raise check.fail("side", f"must be 'left' or 'right' for a per-side exercise, got {side!r}")
    if not exercise.per_side and side is not None:
        raise check.fail("side", f"is not allowed: {key} is not done per side")
    low, high = exercise.range
    target = check.integer(data, "target", low, high, default=exercise.target)
    rest_after = check.get(data, "rest_after", None)
    if rest_after is not None:
        rest_after = check.integer(data, "rest_after", 0, MAX_REST_SECONDS)
    return RoutineStep(
        exercise=exercise.key,
        side=side,
        target=target,
        rest_after=rest_after,
        first_round_only=check.flag(data, "first_round_only", False),
    )


def _option_steps(
    key: str, steps: Sequence[RoutineStep], exercise: Exercise, window: tuple[int, int] | None
) -> tuple[RoutineStep, ...]:
    """Return the steps one option adds: its steps in the routine, else a set (per side).

    A move not among the routine's steps starts at its default target, pulled into the
    choice's target window where its range allows (seed 000: a set of 10-15).
    """
    own = tuple(s for s in steps if s.exercise == key)
    if own:
        return own
    target = exercise.target
    if window is not None:
        low, high = max(window[0], exercise.range[0]), min(window[1], exercise.range[1])
        target = min(max(target, low), high)
    sides: tuple[str | None, ...] = SIDES if exercise.per_side else (None,)
    return tuple(RoutineStep(exercise=key, side=side, target=target) for side in sides)


def _parse_choice(
    check: _Checker, data: Any, steps: Sequence[RoutineStep], exercises: Mapping[str, Exercise]
) -> Choice:
    """Validate a routine's `choose = { from = [...], min = 2, max = 3 }` against its steps."""
    if not isinstance(data, dict):
        raise check.fail("choose", "must be a table like { from = [...], min = 2, max = 3 }")
    fields = {f"choose.{name}": value for name, value in data.items()}  # errors name choose.<x>
    check.unknown(fields, frozenset(f"choose.{name}" for name in _CHOICE_FIELDS))
    options = check.get(fields, "choose.from")
    if not isinstance(options, list) or not options or any(not isinstance(o, str) for o in options):
        raise check.fail("choose.from", f"must be a non-empty list of exercises, got {options!r}")
    if len(options) > MAX_OPTIONS:
        raise check.fail("choose.from", f"may list at most {MAX_OPTIONS} moves, got {len(options)}")
    for option in options:
        if option not in exercises:
            raise check.fail("choose.from", f"names an unknown exercise {option!r}")
        if options.count(option) > 1:
            raise check.fail("choose.from", f"lists {option!r} more than once")
    fewest = check.integer(fields, "choose.min", 1, len(options))
    most = check.integer(fields, "choose.max", 1, len(options))
    if most < fewest:
        raise check.fail("choose.max", f"must be at least min ({fewest}), got {most}")
    window: tuple[int, int] | None = None
    if "choose.range" in fields:
        window = check.pair(fields, "choose.range", 1, MAX_TARGET)
        for option in options:
            low, high = exercises[option].range
            if high < window[0] or low > window[1]:
                raise check.fail(
                    "choose.range", f"{list(window)} misses the range [{low}, {high}] of {option!r}"
                )
    defaults = tuple(dict.fromkeys(s.exercise for s in steps))
    outside = [d for d in defaults if d not in options]
    if outside:
        why = "which is not in choose.from (the steps are the preselected moves)"
        raise check.fail("steps", f"names {outside[0]!r}, {why}")
    if not fewest <= len(defaults) <= most:
        raise check.fail(
            "steps", f"preselect {len(defaults)} moves, but choose allows {fewest} to {most}"
        )
    return Choice(
        options=tuple(options),
        fewest=fewest,
        most=most,
        defaults=tuple(o for o in options if o in defaults),
        steps={o: _option_steps(o, steps, exercises[o], window) for o in options},
    )


def _parse_routine(source: str, key: str, data: Any, exercises: Mapping[str, Exercise]) -> Routine:
    """Validate one [routines.<key>] table and return the Routine."""
    check = _Checker(source, f"routine '{key}'")
    if not isinstance(data, dict):
        raise CatalogueError(f"{source}: routine '{key}' must be a table")
    check.unknown(data, _ROUTINE_FIELDS)
    goals = check.get(data, "goals")
    if not isinstance(goals, list) or not goals or any(g not in GOAL_KEYS for g in goals):
        raise check.fail("goals", f"must list one or more of {', '.join(GOAL_KEYS)}, got {goals!r}")
    low, high = check.pair(data, "rounds_allowed", 1, MAX_ROUNDS)
    rounds = check.integer(data, "rounds", 1, MAX_ROUNDS)
    if not low <= rounds <= high:
        raise check.fail("rounds", f"must be inside rounds_allowed [{low}, {high}], got {rounds}")
    raw_steps = check.get(data, "steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise check.fail("steps", "must be a non-empty list of steps")
    steps = tuple(_parse_step(source, key, i, s, exercises) for i, s in enumerate(raw_steps))
    if all(s.first_round_only for s in steps):
        raise check.fail("steps", "needs at least one step done in every round")
    choice = None
    if "choose" in data:
        choice = _parse_choice(check, data["choose"], steps, exercises)
    name = check.text(data, "name")
    seed = check.text(data, "seed")
    assert name is not None and seed is not None
    return Routine(
        key=key,
        name=name,
        seed=seed,
        goals=tuple(goals),
        steps=steps,
        rounds=rounds,
        rounds_allowed=(low, high),
        rest_between_moves=check.integer(data, "rest_between_moves", 0, MAX_REST_SECONDS),
        rest_between_rounds=check.integer(data, "rest_between_rounds", 0, MAX_REST_SECONDS),
        choice=choice,
        suggested=check.flag(data, "suggested", False),
        note=check.text(data, "note", optional=True),
    )


def _table(source: str, raw: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Return a non-empty top-level table of the file."""
    table = raw.get(name)
    if not isinstance(table, dict) or not table:
        raise CatalogueError(f"{source}: [{name}] is missing or empty")
    return table


def parse_catalogue(raw: Mapping[str, Any], source: str = "<catalogue>") -> Catalogue:
    """Validate parsed TOML data and return the Catalogue."""
    for name in raw:
        if name not in ("exercises", "routines"):
            raise CatalogueError(f"{source}: unknown top-level table [{name}]")
    exercises = {
        key: _parse_exercise(source, key, data)
        for key, data in _table(source, raw, "exercises").items()
    }
    routines = {
        key: _parse_routine(source, key, data, exercises)
        for key, data in _table(source, raw, "routines").items()
    }
    for key in (*exercises, *routines):
        if not key.replace("_", "").isalnum() or not key.isascii() or len(key) > 24:
            raise CatalogueError(f"{source}: key '{key}' must be short ASCII letters, digits or _")
    for key, exercise in exercises.items():
        if exercise.stand_in is None:
            continue
        other = exercises.get(exercise.stand_in)
        if other in (None, exercise) or other.stand_in or other.per_side or exercise.per_side:
            raise CatalogueError(
                f"{source}: exercise '{key}': field 'stand_in' must name another exercise, "
                "done on both sides at once and without a stand-in of its own"
            )
    suggested = [key for key, routine in routines.items() if routine.suggested]
    if len(suggested) > 1:
        raise CatalogueError(f"{source}: only one routine may be suggested, not {suggested}")
    return Catalogue(exercises=exercises, routines=routines)


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate a catalogue file (default: the one shipped in the package)."""
    target = path or default_path()
    try:
        raw = tomllib.loads(target.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"{target}: catalogue file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"{target}: cannot read the catalogue ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{target}: not valid TOML ({exc})") from None
    return parse_catalogue(raw, str(target))
