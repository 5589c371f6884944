"""The progression engine: from logged sets and a pain check-in to the next prescription.

Pure: imports neither telegram nor sqlalchemy. A prescription says, per routine, which band to
use, how long to rest between moves, how many rounds, the target of every exercise, and on
which side (if any) to add one extra set. `next_prescription` applies the rules below after a
session's check-in and explains every change in a human-readable reason; `restart_after_gap`
runs when a session starts after a long break. Each rule's docstring names its seed article:

- 001: reps before tension (10 → 12 → 13 → 14 → 15, then a heavier band), rest between moves
  shrinking towards zero, and discomfort in the low back meaning too much tension, then too
  much volume.
- 002: left/right imbalances load the back unevenly; the aim is to get the sides equal.
- 004: per-exercise ranges climbed one rep at a time, and "progress only when pain-free";
  belly leg raises hold 3-6 s, so the hold grows to 6 s before the count climbs.
- Pain monitoring (Silbernagel et al. 2007; physiotherapy traffic-light charts): pain up to 5
  is acceptable only if it has settled by the next morning, and 6 or more is red.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.coaching.catalogue import SIDES, Catalogue, Exercise, Routine
from bot.coaching.profile import BANDS

REPS_LADDER: tuple[int, ...] = (10, 12, 13, 14, 15)  # seed 001; also for steps and seconds
REST_STEPS: tuple[int, ...] = (20, 15, 10, 5, 0)  # seed 001: between moves, towards no rest
# Our choice, where the seeds are silent: pain of 1-2 away from the low back still lets the plan
# climb (the next-morning check undoes it if the body disagrees); "pain-free" means 0.
MILD_PAIN_MAX = 2
SEVERE_PAIN = 6  # the traffic-light charts' red: no increase, a safety note and a deload
LOW_BACK_BACK_OFF = 3  # seed 001: low-back discomfort → less tension, then less volume
REST_BACK = 10  # seed 001: rest between moves again "if you start feeling tightness in your back"
GAP_DAYS = 10  # this long without a session restarts one rung lower
SIDE_WINDOW = 5  # seed 002: the side reported weaker in 3 of the last 5 check-ins
SIDE_THRESHOLD = 3
LOW_BACK = "low_back"
AREAS: tuple[str, ...] = (LOW_BACK, "hips", "knees", "shoulders", "other")
SAME = "same"

NEED_BAND = (
    "Every banded move is at the top of its range, so next comes the {band} band, which you "
    "don't have yet: get one and tick it (/settings → My bands). Until then the reps stay "
    "at the top"
)
GET_LIGHTER = (
    "A {band} band would make these lighter still: if you get one, tick it (/settings → My bands)"
)
_UNIT_WORDS = {"reps": "reps", "steps": "steps", "seconds": "seconds", "hold": "reps"}


# ---------------------------------------------------------------- data


@dataclass(frozen=True)
class RoutinePrescription:
    """What the next session of one routine asks for."""

    routine: str
    band: str | None  # None when the routine has no banded exercise or no band is known
    rest_between_moves: int
    rounds: int
    targets: Mapping[str, int]  # exercise key → target, in routine order
    extra_side: str | None = None  # "left"/"right": one extra set there for per-side moves
    holds: Mapping[str, int] = field(default_factory=dict)  # exercise key → seconds (growing)

    def to_json(self) -> dict[str, Any]:
        """Return JSON-serialisable data."""
        return {
            "band": self.band,
            "rest_between_moves": self.rest_between_moves,
            "rounds": self.rounds,
            "targets": dict(self.targets),
            "extra_side": self.extra_side,
            "holds": dict(self.holds),
        }

    def load(self, exercise: Exercise) -> tuple[int, int | None]:
        """Return an exercise's target and its growing hold (None for every other move)."""
        hold = self.holds.get(exercise.key) if exercise.hold_range else None
        return self.targets[exercise.key], hold

    def with_loads(self, loads: Mapping[str, tuple[int, int | None]]) -> RoutinePrescription:
        """Return the prescription with new targets (and growing holds) for some exercises."""
        targets, holds = dict(self.targets), dict(self.holds)
        for key, (target, hold) in loads.items():
            targets[key] = target
            if hold is not None:
                holds[key] = hold
        return replace(self, targets=targets, holds=holds)


@dataclass(frozen=True)
class Prescription:
    """A user's prescription for every routine of the catalogue."""

    routines: Mapping[str, RoutinePrescription]

    def routine(self, key: str) -> RoutinePrescription:
        """Return the prescription of one routine."""
        return self.routines[key]

    def to_json(self) -> dict[str, Any]:
        """Return JSON-serialisable data."""
        return {key: rx.to_json() for key, rx in self.routines.items()}


@dataclass(frozen=True)
class SetResult:
    """One planned set of the session: what it asked for and what was done (0 if not reached)."""

    exercise: str
    side: str | None
    target: int
    actual: int


@dataclass(frozen=True)
class SessionResult:
    """What happened in the session the check-in is about."""

    routine: str
    band: str | None
    finished: bool  # every step was reached (completed, not stopped or abandoned)
    stopped: bool  # ended early with Stop
    sets: tuple[SetResult, ...]  # every planned set, in plan order

    @property
    def complete(self) -> bool:
        """Return True when the session finished with every set at its target."""
        return self.finished and bool(self.sets) and all(s.actual >= s.target for s in self.sets)


@dataclass(frozen=True)
class CheckIn:
    """The post-session answers: pain 0-10, where, and the side that felt weaker."""

    pain: int
    areas: frozenset[str] = frozenset()
    weaker_side: str | None = None  # "left", "right", "same" or None

    @property
    def pain_free(self) -> bool:
        """Return True when there is no pain at all."""
        return self.pain == 0

    @property
    def low_back(self) -> bool:
        """Return True when any pain is felt in the low back."""
        return self.pain > 0 and LOW_BACK in self.areas

    @property
    def may_progress(self) -> bool:
        """Return True when the plan may climb: no low-back pain, and at most mild pain elsewhere.

        Seed 001: any discomfort in the lumbar spine means too much; seed 004: progress when
        pain-free. Pain of 1-2 elsewhere is our allowance, checked the next morning.
        """
        return not self.low_back and self.pain <= MILD_PAIN_MAX

    def why_up(self) -> str:
        """Return the reason a target went up: 'pain-free', or the mild pain it went up with."""
        return "pain-free" if self.pain_free else f"mild pain {self.pain}/10, not in the low back"


@dataclass(frozen=True)
class Progression:
    """The next prescription, every change with its reason, and whether to add the safety note."""

    prescription: Prescription
    reasons: tuple[str, ...] = ()
    safety: bool = False
    deload: bool = False
    raised: bool = False  # a target, the band, or a shorter rest went up


# ---------------------------------------------------------------- ladders and defaults


def ladder(exercise: Exercise) -> tuple[int, ...]:
    """Return the targets an exercise climbs through, lowest first.

    Seed 001 exercises use 10 → 12 → 13 → 14 → 15 within their range (reps, steps and seconds
    alike); the others (seed 004's bridges 10-15, belly leg raises 6-10, side steps 10-12, band
    squats 8-10, and the rest) climb one rep at a time within their range.
    """
    low, high = exercise.range
    if exercise.seed == "001":
        return tuple(sorted({low, high, *(r for r in REPS_LADDER if low < r < high)}))
    return tuple(range(low, high + 1))


def rung(exercise: Exercise, target: int, hold: int | None = None) -> int:
    """Return the index of the highest rung at or below a target (a growing hold's rungs first)."""
    steps = ladder(exercise)
    index = max((i for i, value in enumerate(steps) if value <= target), default=0)
    if exercise.hold_range and hold is not None:
        index += hold - exercise.hold_range[0]
    return index


def rungs(exercise: Exercise) -> int:
    """Return how many rungs an exercise's ladder has, a growing hold's included."""
    low, high = exercise.hold_range or (0, 0)
    return len(ladder(exercise)) + high - low


def rung_up(exercise: Exercise, target: int) -> int:
    """Return the next rung above a target, or the target itself at the top of the range."""
    return next((value for value in ladder(exercise) if value > target), target)


def rung_down(exercise: Exercise, target: int) -> int:
    """Return the rung below a target, or the bottom of the range."""
    below = [value for value in ladder(exercise) if value < target]
    return below[-1] if below else exercise.range[0]


def at_top(exercise: Exercise, target: int, hold: int | None = None) -> bool:
    """Return True when a target (and a growing hold) is the top of its exercise's range."""
    longest = exercise.hold_range[1] if exercise.hold_range else None
    return target >= exercise.range[1] and (longest is None or (hold or 0) >= longest)


def climb(exercise: Exercise, target: int, hold: int | None) -> tuple[int, int | None]:
    """Return the next (target, hold): a growing hold first, one second, then the count.

    Seed 004: belly leg raises, 6-10 reps held 3-6 s; the hold reaches 6 s before reps climb.
    """
    if exercise.hold_range and hold is not None and hold < exercise.hold_range[1]:
        return target, hold + 1
    return rung_up(exercise, target), hold


def step_down(exercise: Exercise, target: int, hold: int | None) -> tuple[int, int | None]:
    """Return the (target, hold) one rung lower: the count first, then a growing hold."""
    if target > exercise.range[0] or not exercise.hold_range or hold is None:
        return rung_down(exercise, target), hold
    return target, max(exercise.hold_range[0], hold - 1)


def bottom(exercise: Exercise) -> tuple[int, int | None]:
    """Return the (target, hold) at the bottom of an exercise's range."""
    return exercise.range[0], exercise.hold_range[0] if exercise.hold_range else None


def move_line(
    exercise: Exercise, before: tuple[int, int | None], after: tuple[int, int | None], why: str
) -> str:
    """Return the change of a target or of a growing hold, e.g. 'Belly leg raises: hold 3 → 4 s'."""
    if before[1] == after[1]:
        return change_line(exercise, before[0], after[0], why)
    hold = f"hold {before[1]} → {after[1]} s"
    if before[0] == after[0]:
        return f"{exercise.name}: {hold} ({why})"
    unit = _UNIT_WORDS.get(exercise.unit, exercise.unit)
    return f"{exercise.name}: {before[0]} → {after[0]} {unit}, {hold} ({why})"


def routine_exercises(catalogue: Catalogue, routine: Routine) -> list[Exercise]:
    """Return the distinct exercises of a routine in order of first appearance.

    For a routine with a choice of moves, every move it offers: each has its own target.
    """
    if routine.choice is not None:
        return [catalogue.exercise(key) for key in routine.choice.options]
    seen: dict[str, Exercise] = {}
    for step in routine.steps:
        seen.setdefault(step.exercise, catalogue.exercise(step.exercise))
    return list(seen.values())


def has_band(catalogue: Catalogue, routine: Routine) -> bool:
    """Return True when any exercise of the routine uses the band."""
    return any(e.band for e in routine_exercises(catalogue, routine))


def has_sides(catalogue: Catalogue, routine: Routine) -> bool:
    """Return True when any exercise of the routine is done per side."""
    return any(e.per_side for e in routine_exercises(catalogue, routine))


def default_routine(catalogue: Catalogue, key: str, band: str | None) -> RoutinePrescription:
    """Return a routine's starting prescription: the catalogue's numbers on the user's band.

    Worked out once per routine and band: every plan starts from it, and it is never changed
    (new prescriptions are built with their own dicts).
    """
    memo = ("default_routine", key, band)
    found = catalogue.memo.get(memo)
    if found is None:
        found = catalogue.memo[memo] = _default_routine(catalogue, key, band)
    return found  # type: ignore[no-any-return]


def _default_routine(catalogue: Catalogue, key: str, band: str | None) -> RoutinePrescription:
    """Work out a routine's starting prescription."""
    routine = catalogue.routine(key)
    targets: dict[str, int] = {}
    if routine.choice is not None:
        targets = routine.choice.targets
    for step in routine.steps:
        targets.setdefault(step.exercise, step.target)
    exercises = routine_exercises(catalogue, routine)
    return RoutinePrescription(
        routine=key,
        band=capped(band, catalogue.band_cap(key)) if has_band(catalogue, routine) else None,
        rest_between_moves=routine.rest_between_moves,
        rounds=routine.rounds,
        targets=targets,
        holds={e.key: e.hold_range[0] for e in exercises if e.hold_range},
    )


def fit(catalogue: Catalogue, stored: RoutinePrescription, band: str | None) -> RoutinePrescription:
    """Return a stored prescription made valid for the current catalogue (a coach may edit it)."""
    routine = catalogue.routine(stored.routine)
    default = default_routine(catalogue, routine.key, band)
    targets: dict[str, int] = {}
    for key, value in default.targets.items():
        low, high = catalogue.exercise(key).range
        targets[key] = min(max(stored.targets.get(key, value), low), high)
    holds: dict[str, int] = {}
    for key, value in default.holds.items():
        shortest, longest = catalogue.exercise(key).hold_range or (value, value)
        holds[key] = min(max(stored.holds.get(key, value), shortest), longest)
    low_rounds, high_rounds = routine.rounds_allowed
    banded = has_band(catalogue, routine)
    return RoutinePrescription(
        routine=routine.key,
        band=capped(
            stored.band if stored.band in BANDS else default.band, catalogue.band_cap(routine.key)
        )
        if banded
        else None,
        rest_between_moves=max(0, min(stored.rest_between_moves, routine.rest_between_moves)),
        rounds=min(max(stored.rounds, low_rounds), high_rounds),
        targets=targets,
        extra_side=stored.extra_side
        if stored.extra_side in SIDES and has_sides(catalogue, routine)
        else None,
        holds=holds,
    )


def prescription_for(
    catalogue: Catalogue, band: str | None, stored: Iterable[RoutinePrescription] = ()
) -> Prescription:
    """Return a user's full prescription: stored routines fitted to the catalogue, defaults else.

    With nothing stored it is the same for everyone on a band, so it is worked out once (a
    crowded reminder slot of new members asked for it thousands of times).
    """
    by_key = {rx.routine: rx for rx in stored if rx.routine in catalogue.routines}
    if not by_key:
        memo = ("prescription", band)
        found = catalogue.memo.get(memo)
        if found is None:
            found = catalogue.memo[memo] = Prescription(
                {key: default_routine(catalogue, key, band) for key in catalogue.routines}
            )
        return found  # type: ignore[no-any-return]
    return Prescription(
        {
            key: fit(catalogue, by_key[key], band)
            if key in by_key
            else default_routine(catalogue, key, band)
            for key in catalogue.routines
        }
    )


def prescription_from_json(catalogue: Catalogue, data: Mapping[str, Any]) -> Prescription:
    """Rebuild a prescription stored by Prescription.to_json, fitted to the catalogue."""
    stored = [
        RoutinePrescription(
            routine=key,
            band=value.get("band"),
            rest_between_moves=int(value["rest_between_moves"]),
            rounds=int(value["rounds"]),
            targets={str(k): int(v) for k, v in value["targets"].items()},
            extra_side=value.get("extra_side"),
            holds={str(k): int(v) for k, v in (value.get("holds") or {}).items()},
        )
        for key, value in data.items()
    ]
    return prescription_for(catalogue, None, stored)


# ---------------------------------------------------------------- wording


def amount(exercise: Exercise, value: int, *, sides: bool = False, hold: int | None = None) -> str:
    """Return a target as every message says it: '13 steps each (forward and back)'.

    Holds add their length ('6 reps, hold 3 s each'; `hold` is a growing hold's current one);
    `sides` adds ' each side' for per-side moves, where a line stands for both sides.
    """
    text = f"{value} {_UNIT_WORDS.get(exercise.unit, exercise.unit)}"
    if hold or exercise.hold_seconds:
        text += f", hold {hold or exercise.hold_seconds} s each"
    if exercise.each:
        text += f" each ({exercise.each})"
    if sides and exercise.per_side:
        text += " each side"
    return text


def change_line(exercise: Exercise, before: int, after: int, why: str) -> str:
    """Return e.g. 'Lateral walks: 12 → 13 steps (all sets done, pain-free)'."""
    unit = _UNIT_WORDS.get(exercise.unit, exercise.unit)
    return f"{exercise.name}: {before} → {after} {unit} ({why})"


def _band_index(band: str | None) -> int:
    """Return a band's position from lightest (0) to heaviest, -1 for none."""
    return BANDS.index(band) if band in BANDS else -1


def capped(band: str | None, cap: str | None) -> str | None:
    """Return a band no heavier than `cap` (seed 003: hip flexion stays on yellow or green)."""
    if band not in BANDS:
        return None
    return cap if cap is not None and _band_index(band) > _band_index(cap) else band


def lighter_owned(band: str | None, owned: frozenset[str]) -> str | None:
    """Return the nearest lighter band the member owns, or None."""
    index = _band_index(band)
    return next((b for b in reversed(BANDS[: max(index, 0)]) if b in owned), None)


def fit_owned(band: str | None, owned: frozenset[str]) -> str | None:
    """Return `band` if owned, else the nearest lighter owned band, else the lightest owned."""
    if band not in BANDS or band in owned or not owned:
        return band
    return lighter_owned(band, owned) or min(owned, key=_band_index)


def lighter(band: str | None) -> str | None:
    """Return the next lighter band, or None on the lightest band or without one."""
    index = _band_index(band)
    return BANDS[index - 1] if index > 0 else None


def heavier(band: str | None) -> str | None:
    """Return the next heavier band, or None on the heaviest band or without one."""
    index = _band_index(band)
    return BANDS[index + 1] if 0 <= index < len(BANDS) - 1 else None


# ---------------------------------------------------------------- the rules


def earned(result: SessionResult, exercise: str) -> bool:
    """Return True when every planned set of an exercise hit its target."""
    sets = [s for s in result.sets if s.exercise == exercise]
    return bool(sets) and all(s.actual >= s.target for s in sets)


def planned(result: SessionResult, exercise: str) -> bool:
    """Return True when the session's plan had the exercise (a move picked, or any other)."""
    return any(s.exercise == exercise for s in result.sets)


def advance_reps(
    catalogue: Catalogue,
    rx: RoutinePrescription,
    result: SessionResult,
    why_up: str = "pain-free",
    owned: frozenset[str] = frozenset(BANDS),
) -> tuple[RoutinePrescription, list[str]]:
    """Move each earned exercise up one rung, or band up when every banded one topped out.

    Seed 001, reps before tension: 10 → 12 → 13 → 14 → 15 (steps and seconds too), and once every
    banded exercise of the routine is at 15 pain-free the band goes up one colour (yellow →
    green → blue → black) and those exercises return to the bottom of their range; on black,
    reps keep climbing to the top of the range. Seed 004: exercises with their own range climb
    one rep at a time, and only when pain-free. Only exercises whose every set hit its target
    move, never more than one rung per session.

    In a routine with a choice of moves, only the moves of this session climb, and the band
    goes up once every move it offers is at the top (and today's hit every target): a move
    picked after a band change then never starts above the bottom of its range.
    """
    routine = catalogue.routine(rx.routine)
    exercises = routine_exercises(catalogue, routine)
    banded = [e for e in exercises if e.band]
    heavier_band = heavier(rx.band)
    light_only = catalogue.band_cap(rx.routine) is not None  # seed 003: never raised by itself
    ready = (
        not light_only
        and any(planned(result, e.key) for e in banded)
        and heavier_band is not None
        and all(
            at_top(e, *rx.load(e)) and (earned(result, e.key) or not planned(result, e.key))
            for e in banded
        )
    )
    band_up = ready and heavier_band in owned  # never a band the member does not have
    on_black = rx.band == BANDS[-1]
    loads: dict[str, tuple[int, int | None]] = {}
    reasons: list[str] = []
    if band_up:
        reasons.append(
            f"Band {rx.band} → {heavier_band}: every banded exercise reached the top of its "
            f"range ({why_up}), so the tension goes up and the reps start again at the bottom"
        )
    for exercise in exercises:
        load = rx.load(exercise)
        before = load[0]
        if band_up and exercise.band:
            loads[exercise.key] = bottom(exercise)
            reasons.append(move_line(exercise, load, loads[exercise.key], "new band"))
        elif not planned(result, exercise.key):
            continue  # a move not picked this time keeps its target
        elif not earned(result, exercise.key):
            done = any(s.actual > 0 for s in result.sets if s.exercise == exercise.key)
            why = f"not every set reached {before} this time" if done else "not done this time"
            reasons.append(
                f"{exercise.name} stays at {amount(exercise, before, hold=load[1])}: {why}"
            )
        elif at_top(exercise, *load):
            if exercise.band and light_only:
                why = "the top of its range; it stays on a light band, precision over range"
            elif exercise.band and on_black:
                why = "the top of its range on black, the heaviest band: keep the form perfect"
            elif exercise.band:
                why = "the top of its range; the band goes up once every banded move is there"
            else:
                why = "the top of its range"
            reasons.append(
                f"{exercise.name} stays at {amount(exercise, before, hold=load[1])}: {why}"
            )
        else:
            loads[exercise.key] = climb(exercise, *load)
            why = f"all sets done, {why_up}"
            if exercise.band and on_black:
                why += "; black is the heaviest band, so the reps keep climbing to the top"
            reasons.append(move_line(exercise, load, loads[exercise.key], why))
    if ready and not band_up:
        reasons.insert(0, NEED_BAND.format(band=heavier_band))
    band = heavier_band if band_up else rx.band
    return replace(rx.with_loads(loads), band=band), reasons


def shrink_rest(
    rx: RoutinePrescription, result: SessionResult, why_up: str = "pain-free"
) -> tuple[RoutinePrescription, list[str]]:
    """Shorten the rest between moves one step after a complete session the plan may climb on.

    Seed 001: start with 10-20 s between moves and work towards none: 20 → 15 → 10 → 5 → 0 s,
    one step per session with every set done. Rest between rounds stays 30-45 s.
    """
    if not result.complete or rx.rest_between_moves <= 0:
        return rx, []
    after = next((r for r in REST_STEPS if r < rx.rest_between_moves), 0)
    reason = (
        f"Rest between moves: {rx.rest_between_moves} → {after} s "
        f"(complete session, {why_up}; rest between rounds stays)"
    )
    return replace(rx, rest_between_moves=after), [reason]


def back_off_low_back(
    catalogue: Catalogue, rx: RoutinePrescription, owned: frozenset[str] = frozenset(BANDS)
) -> tuple[RoutinePrescription, list[str]]:
    """Drop the band one colour; on the lightest band cut a round, then go to the range bottom.

    Seed 001: discomfort in the lumbar spine means the band is too strong, so first reduce the
    tension, and after a certain point the volume too.
    """
    why = "low-back discomfort means too much tension"
    down = lighter_owned(rx.band, owned)
    if down is not None:
        return replace(rx, band=down), [f"Band {rx.band} → {down}: {why}"]
    routine = catalogue.routine(rx.routine)
    missing = lighter(rx.band)  # a lighter colour the member does not have
    why = "low-back discomfort, and the band is already the lightest, so less volume"
    if missing is not None:
        why = f"low-back discomfort, and you have no band lighter than {rx.band}, so less volume"
    if rx.rounds > routine.rounds_allowed[0]:
        return replace(rx, rounds=rx.rounds - 1), [f"Rounds: {rx.rounds} → {rx.rounds - 1}: {why}"]
    bottom, reasons = to_bottom(catalogue, rx, why)
    if not reasons:
        reasons = [
            "Everything is already at its lightest: keep it gentle, and if the low back keeps "
            "complaining, check in with a professional"
        ]
        if missing is not None:
            reasons.append(GET_LIGHTER.format(band=missing))
    return bottom, reasons


def rest_back(
    catalogue: Catalogue, rx: RoutinePrescription
) -> tuple[RoutinePrescription, list[str]]:
    """Bring back 10 s of rest between moves after low-back pain of 3 or more.

    Seed 001: rest between moves when needed, especially when the low back starts to tighten.
    """
    routine = catalogue.routine(rx.routine)
    after = min(REST_BACK, routine.rest_between_moves)
    if rx.rest_between_moves >= after:
        return rx, []
    line = (
        f"Rest between moves: {rx.rest_between_moves} → {after} s "
        "(a pause between moves helps when the low back tightens)"
    )
    return replace(rx, rest_between_moves=after), [line]


def to_bottom(
    catalogue: Catalogue, rx: RoutinePrescription, why: str
) -> tuple[RoutinePrescription, list[str]]:
    """Return every exercise at the bottom of its range, with a reason for each that moved."""
    loads: dict[str, tuple[int, int | None]] = {}
    reasons: list[str] = []
    for exercise in routine_exercises(catalogue, catalogue.routine(rx.routine)):
        load, low = rx.load(exercise), bottom(exercise)
        if load != low:
            reasons.append(move_line(exercise, load, low, why))
            loads[exercise.key] = low
    return rx.with_loads(loads), reasons


def deload(
    catalogue: Catalogue, rx: RoutinePrescription, owned: frozenset[str] = frozenset(BANDS)
) -> tuple[RoutinePrescription, list[str]]:
    """Make the next session a deload: one band lighter, or the bottom of every range.

    Severe pain (7 or more, or Stop with pain): no progression, and the next session is lighter.
    The seeds' rule "only progress when pain-free" (004) and "reduce the tension" (001).
    """
    down = lighter_owned(rx.band, owned)
    if down is not None:
        return replace(rx, band=down), [f"Next session is a deload: band {rx.band} → {down}"]
    bottom, reasons = to_bottom(catalogue, rx, "deload after the pain")
    return bottom, reasons or ["Next session is a deload: everything is already at its lightest"]


def weaker_side(history: Sequence[str | None]) -> tuple[str | None, int]:
    """Return the side reported weaker in at least 3 of the last 5 check-ins, and its count.

    Seed 002: an imbalance between sides loads the back unevenly; the aim is to get them equal.
    """
    recent = list(history)[-SIDE_WINDOW:]
    for side in SIDES:
        count = recent.count(side)
        if count >= SIDE_THRESHOLD:
            return side, count
    return None, 0


def balance_sides(
    catalogue: Catalogue,
    prescription: Prescription,
    history: Sequence[str | None],
    *,
    may_add: bool,
) -> tuple[Prescription, list[str]]:
    """Add one extra set on a side reported weaker in 3 of the last 5 check-ins; drop it after.

    Seed 002: notice a difference between the sides and work to get them equal, so per-side
    exercises get one extra set on the weaker side until the reports even out. An extra set is
    more volume, so it is only added on a pain-free day; it is dropped on any day.
    """
    side, count = weaker_side(history)
    window = min(len(history), SIDE_WINDOW)
    routines = dict(prescription.routines)
    changed: set[str] = set()
    for key, rx in prescription.routines.items():
        if not has_sides(catalogue, catalogue.routine(key)) or rx.extra_side == side:
            continue
        if side is not None and not may_add:
            continue
        routines[key] = replace(rx, extra_side=side)
        changed.add(key)
    before = {rx.extra_side for key, rx in prescription.routines.items() if key in changed}
    reasons: list[str] = []
    if changed and side is not None:
        reasons.append(
            f"Your {side} side felt weaker in {count} of your last {window} check-ins: one extra "
            f"set on the {side} for per-side exercises until the sides even out"
        )
    elif changed:
        dropped = " and ".join(sorted(s for s in before if s))
        reasons.append(f"Left and right have evened out: the extra {dropped} set is dropped")
    return Prescription(routines), reasons


def next_prescription(
    catalogue: Catalogue,
    current: Prescription,
    result: SessionResult,
    checkin: CheckIn,
    side_history: Sequence[str | None] = (),
    owned: frozenset[str] = frozenset(BANDS),
) -> Progression:
    """Return the prescription after a session and its check-in, with a reason for each change.

    `side_history` is the weaker side of recent check-ins, oldest first, this one last. Severe
    pain wins over low-back pain, which wins over a hold, which wins over progressing.
    """
    rx = current.routine(result.routine)
    reasons: list[str] = []
    routine = catalogue.routine(result.routine)
    lighter_used = _band_index(result.band) < _band_index(rx.band)
    if result.band in BANDS and rx.band is not None and result.band != rx.band:
        if checkin.may_progress or lighter_used:  # a heavier band chosen on a painful day: no
            used = capped(result.band, catalogue.band_cap(routine.key))
            if used != rx.band:
                reasons.append(f"Band: you used {used} today, so your plan follows it")
                rx = replace(rx, band=used)
    elif result.band in BANDS and rx.band is None and has_band(catalogue, routine):
        rx = replace(rx, band=capped(result.band, catalogue.band_cap(routine.key)))
    severe = checkin.pain >= SEVERE_PAIN or (result.stopped and checkin.pain > MILD_PAIN_MAX)
    back_off = checkin.low_back and checkin.pain >= LOW_BACK_BACK_OFF
    if severe:
        rx, more = deload(catalogue, rx, owned)
    elif back_off:
        rx, more = back_off_low_back(catalogue, rx, owned)
    elif checkin.low_back:
        more = [
            f"Everything stays as it is: any discomfort in the low back (pain {checkin.pain}/10) "
            "means no increase this time"
        ]
    elif not checkin.may_progress:
        more = [
            f"Everything stays as it is: we hold while there is discomfort (pain {checkin.pain}/10)"
        ]
    else:
        rx, more = advance_reps(catalogue, rx, result, checkin.why_up(), owned)
        rx, rest = shrink_rest(rx, result, checkin.why_up())
        more += rest
    if back_off:
        rx, rest = rest_back(catalogue, rx)
        more += rest
    reasons += more
    routines = dict(current.routines)
    routines[rx.routine] = rx
    shared = share(catalogue, current, Prescription(routines), rx.routine)
    balanced, side_reasons = balance_sides(
        catalogue, shared, side_history, may_add=checkin.may_progress
    )
    return Progression(
        prescription=balanced,
        reasons=tuple(reasons + side_reasons),
        safety=severe,
        deload=severe,
        raised=went_up(current.routine(rx.routine), balanced.routine(rx.routine)),
    )


def member_band(catalogue: Catalogue, prescription: Prescription) -> str | None:
    """Return the band a member's plan has reached: that of its routines without a band cap."""
    bands = [
        rx.band
        for key, rx in prescription.routines.items()
        if rx.band in BANDS and catalogue.band_cap(key) is None
    ]
    return max(bands, key=_band_index) if bands else None


def share(
    catalogue: Catalogue, before: Prescription, after: Prescription, source: str
) -> Prescription:
    """Carry what one routine's session changed to every routine: one plan per member.

    A target belongs to the exercise, whichever routine trains it, and the band to the member
    (capped per routine, so hip flexion stays light), so a deload or a climb in the lower-body
    routine reaches the superset and the quick warm-up alike. When the band goes up, every
    banded exercise restarts at the bottom of its range, not only the source routine's.
    """
    src, was = after.routine(source), before.routine(source)
    old = member_band(catalogue, before) or was.band
    new = old
    if src.band != was.band:  # a capped routine at its cap says nothing about heavier bands
        cap = catalogue.band_cap(source)
        new = old if cap is not None and src.band == capped(old, cap) else src.band
    up = _band_index(new) > _band_index(old)
    routines: dict[str, RoutinePrescription] = {}
    for key, rx in after.routines.items():
        if key == source:
            routines[key] = rx
            continue
        loads: dict[str, tuple[int, int | None]] = {}
        for exercise in routine_exercises(catalogue, catalogue.routine(key)):
            if exercise.key in src.targets:
                loads[exercise.key] = src.load(exercise)
            elif up and exercise.band:
                loads[exercise.key] = bottom(exercise)
        banded = has_band(catalogue, catalogue.routine(key))
        band = capped(new, catalogue.band_cap(key)) if banded else None
        routines[key] = replace(rx.with_loads(loads), band=band)
    return Prescription(routines)


def changed_routines(before: Prescription, after: Prescription) -> list[str]:
    """Return the routines whose prescription differs, to be stored."""
    return [key for key, rx in after.routines.items() if before.routines.get(key) != rx]


def went_up(before: RoutinePrescription, after: RoutinePrescription) -> bool:
    """Return True when anything of a routine got harder: a target, the band or shorter rest."""
    return (
        any(after.targets[key] > value for key, value in before.targets.items())
        or any(after.holds.get(key, 0) > value for key, value in before.holds.items())
        or _band_index(after.band) > _band_index(before.band)
        or after.rest_between_moves < before.rest_between_moves
        or after.rounds > before.rounds
        or (after.extra_side is not None and after.extra_side != before.extra_side)
    )


def restart_after_gap(
    catalogue: Catalogue, rx: RoutinePrescription, days: int | None
) -> tuple[RoutinePrescription, list[str]]:
    """Restart one rung lower after 10 or more days without a session, and say why.

    Seed 001 builds tension on reps done consistently, at least 3 times a week; after a long
    break the body is not where the plan left it, so every exercise steps down one rung.
    """
    if days is None or days < GAP_DAYS:
        return rx, []
    loads: dict[str, tuple[int, int | None]] = {}
    lines: list[str] = []
    for exercise in routine_exercises(catalogue, catalogue.routine(rx.routine)):
        before = rx.load(exercise)
        after = step_down(exercise, *before)
        if after != before:
            loads[exercise.key] = after
            lines.append(move_line(exercise, before, after, "one rung lower"))
    head = f"It's been {days} days since your last session, so we restart one rung lower"
    if not lines:
        return rx, [f"{head}; you're already at the start of every range"]
    return rx.with_loads(loads), [head, *lines]
