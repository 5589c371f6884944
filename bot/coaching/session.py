"""A guided session as plain data: the frozen plan, countdowns, taps, summary and suggestion.

Pure: imports neither telegram nor sqlalchemy. Storage keeps the plan as JSON and the current
position, phase and next timer instant; everything here turns those into what happens next.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.coaching.catalogue import TIMED_UNITS, Catalogue, Routine, RoutineStep
from bot.coaching.states import Phase, SessionStatus

PLAN_VERSION = 1
GET_READY_SECONDS = 3  # issue 3: timed work starts after a 3 s "get ready"
RELAX_BETWEEN_HOLDS = 3
EDIT_EVERY_SECONDS = 5  # about one edit per 5 s keeps well under 1 message/s per chat
FINAL_COUNT = (3, 2, 1)
# A timer found this late (the bot was down) is not replayed: no burst of stale edits.
STALE_AFTER = timedelta(seconds=30)
ABANDON_AFTER = timedelta(hours=2)
MAX_COUNT = 200
UNDO_WINDOW = timedelta(minutes=1)  # a wrong Done, Skip or Stop can be taken back this long

# Phases stored in workout_sessions.phase; timers are "<kind>:<offset>" (see Timer).
STEP = Phase.STEP
FEWER = Phase.FEWER
WORK = "work"
REST = "rest"

ACTIVE = SessionStatus.ACTIVE
COMPLETED = SessionStatus.COMPLETED
STOPPED = SessionStatus.STOPPED
ABANDONED = SessionStatus.ABANDONED

# Set outcomes.
DONE = "done"
FEWER_OUTCOME = "fewer"
SKIPPED = "skipped"


# A tap parses its session's plan in several places; the same stored dict maps to one Plan.
# Entries hold the dict itself, so its id cannot be reused while the entry lives.
PARSED_PLANS = 256
_PARSED: OrderedDict[int, tuple[Mapping[str, Any], Plan]] = OrderedDict()
# Steps already built, by their stored fields: most members' plans repeat the same steps, so a
# timer pass over thousands of sessions builds each distinct step once (and keeps one copy).
STEP_CACHE = 20_000
_STEPS: dict[tuple[tuple[str, Any], ...], PlanStep] = {}


@dataclass(frozen=True)
class PlanStep:
    """One set to do: where it sits in the session and what it asks for."""

    position: int
    round_no: int
    rounds: int
    step_no: int
    steps_in_round: int
    exercise: str
    name: str
    side: str | None
    target: int
    unit: str
    band: str | None  # None when the exercise is done without a band
    rest_after: int
    hold_seconds: int | None = None
    each: str | None = None
    extra: bool = False  # one extra set on the weaker side (seed 002)
    setup: str | None = None  # where the band goes and how to stand or lie
    side_means: str | None = None  # what the side means, e.g. "left foot leads"

    @property
    def timed(self) -> bool:
        """Return True when the step runs on a countdown."""
        return self.unit in TIMED_UNITS


@dataclass(frozen=True)
class Plan:
    """The frozen list of steps a session walks through."""

    routine: str
    routine_name: str
    rounds: int
    band: str | None
    steps: tuple[PlanStep, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the plan as JSON-serialisable data."""
        data = asdict(self)
        data["version"] = PLAN_VERSION
        data["steps"] = [asdict(s) for s in self.steps]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Plan:
        """Rebuild a plan stored by to_json (the same stored object is parsed only once)."""
        hit = _PARSED.get(id(data))
        if hit is not None and hit[0] is data:  # the very object, kept alive by the entry
            _PARSED.move_to_end(id(data))
            return hit[1]
        plan = cls(
            routine=str(data["routine"]),
            routine_name=str(data["routine_name"]),
            rounds=int(data["rounds"]),
            band=data.get("band"),
            steps=tuple(map(_step, data["steps"])),
        )
        _PARSED[id(data)] = (data, plan)
        if len(_PARSED) > PARSED_PLANS:
            _PARSED.popitem(last=False)
        return plan

    def step(self, position: int) -> PlanStep | None:
        """Return the step at a position, or None past the end."""
        return self.steps[position] if 0 <= position < len(self.steps) else None


def build_plan(
    catalogue: Catalogue,
    routine_key: str,
    rounds: int,
    band: str | None,
    *,
    targets: Mapping[str, int] | None = None,
    holds: Mapping[str, int] | None = None,
    rest_between_moves: int | None = None,
    extra_side: str | None = None,
    exercises: Sequence[str] | None = None,
    stand_ins: Mapping[str, str] | None = None,
) -> Plan:
    """Expand a routine into its frozen plan for `rounds` rounds on `band`.

    The prescription may override each exercise's target (and a growing hold) and the rest
    between moves, and add one extra set on `extra_side` after every per-side step of that side
    in the last round.
    For a routine with a choice of moves, `exercises` are the moves the user picked (default:
    the routine's own steps); a pick the choice does not allow raises ValueError.
    `stand_ins` replaces moves by others (band squats by bridges until squats are pain-free).
    """
    routine = catalogue.routine(routine_key)
    low, high = routine.rounds_allowed
    if not low <= rounds <= high:
        raise ValueError(f"{routine_key}: {rounds} rounds is outside [{low}, {high}]")
    between = routine.rest_between_moves if rest_between_moves is None else rest_between_moves
    routine_steps = routine.steps_for(exercises)
    steps: list[PlanStep] = []
    for round_no in range(1, rounds + 1):
        chosen: list[tuple[RoutineStep, bool]] = []
        for step in routine_steps:
            if round_no == 1 or not step.first_round_only:
                chosen.append((step, False))
                if round_no == rounds and extra_side and step.side == extra_side:
                    chosen.append((step, True))
        for i, (step, extra) in enumerate(chosen):
            key = (stand_ins or {}).get(step.exercise, step.exercise)
            exercise = catalogue.exercise(key)
            default = step.target if key == step.exercise else exercise.target
            last_in_round = i == len(chosen) - 1
            if last_in_round:
                rest = routine.rest_between_rounds if round_no < rounds else 0
            elif i + 1 < len(chosen) and chosen[i + 1][1]:
                rest = between  # before the extra set: the step's own rest comes after it
            else:
                rest = between if step.rest_after is None else step.rest_after
            steps.append(
                PlanStep(
                    position=len(steps),
                    round_no=round_no,
                    rounds=rounds,
                    step_no=i + 1,
                    steps_in_round=len(chosen),
                    exercise=exercise.key,
                    name=exercise.name,
                    side=step.side,
                    target=(targets or {}).get(exercise.key, default),
                    unit=exercise.unit,
                    band=band if exercise.band else None,
                    rest_after=rest,
                    hold_seconds=exercise.hold_at(holds or {}),
                    each=exercise.each,
                    extra=extra,
                    setup=exercise.setup or None,
                    side_means=exercise.side_means.format(side=step.side)
                    if exercise.side_means and step.side
                    else None,
                )
            )
    return Plan(routine.key, routine.name, rounds, band, tuple(steps))


# ---------------------------------------------------------------- countdowns


@dataclass(frozen=True)
class Segment:
    """A stretch of a countdown with its own label: get ready, go, hold, relax or rest."""

    label: str
    seconds: int


@dataclass(frozen=True)
class Tick:
    """What a countdown shows at a moment, and when it next needs an edit."""

    finished: bool
    segment: int
    label: str
    remaining: int
    next_offset: int | None  # seconds from the countdown's start of the next edit
    next_due: datetime | None


def work_segments(step: PlanStep) -> tuple[Segment, ...]:
    """Return the countdown of a timed step: get ready, then the work (or each hold)."""
    ready = Segment("Get ready", GET_READY_SECONDS)
    if step.unit == "hold" and step.hold_seconds:
        parts: list[Segment] = [ready]
        for rep in range(1, step.target + 1):
            if rep > 1:
                parts.append(Segment("Relax", RELAX_BETWEEN_HOLDS))
            parts.append(Segment(f"Hold {rep}/{step.target}", step.hold_seconds))
        return tuple(parts)
    return (ready, Segment("Go", step.target))


def rest_segments(seconds: int) -> tuple[Segment, ...]:
    """Return the countdown of a rest."""
    return (Segment("Rest", seconds),)


def checkpoints(seconds: int) -> tuple[int, ...]:
    """Return the remaining-seconds values at which a segment of `seconds` is shown, highest first.

    The full length first, then every multiple of 5 below it, then 3, 2, 1.
    """
    marks = {seconds}
    marks.update(m for m in range(EDIT_EVERY_SECONDS, seconds, EDIT_EVERY_SECONDS))
    marks.update(m for m in FINAL_COUNT if m < seconds)
    return tuple(sorted((m for m in marks if m > 0), reverse=True))


def total_seconds(segments: Sequence[Segment]) -> int:
    """Return the length of a countdown."""
    return sum(s.seconds for s in segments)


def countdown(started_at: datetime, segments: Sequence[Segment] | int, now: datetime) -> Tick:
    """Return what a countdown started at `started_at` shows at `now` and when to edit next.

    `segments` may be a plain duration in seconds. Late calls (after downtime) jump straight to
    the current value: there is never a catch-up burst of edits.
    """
    parts = (Segment("", segments),) if isinstance(segments, int) else tuple(segments)
    elapsed = (now - started_at).total_seconds()
    begin = 0
    for index, part in enumerate(parts):
        end = begin + part.seconds
        if elapsed < end:
            left = end - max(elapsed, begin)
            later = [m for m in checkpoints(part.seconds) if m < left]
            next_offset = end - later[0] if later else end
            return Tick(
                finished=False,
                segment=index,
                label=part.label,
                remaining=math.ceil(left),
                next_offset=next_offset,
                next_due=started_at + timedelta(seconds=next_offset),
            )
        begin = end
    return Tick(True, len(parts) - 1, parts[-1].label if parts else "", 0, None, None)


@dataclass(frozen=True)
class Timer:
    """A running countdown as stored: its kind and the offset of the edit that is due."""

    kind: str  # WORK or REST
    offset: int

    @property
    def phase(self) -> str:
        """Return the value stored in workout_sessions.phase."""
        return f"{self.kind}:{self.offset}"

    def started_at(self, due: datetime) -> datetime:
        """Return when the countdown started, given when its pending edit is due."""
        return due - timedelta(seconds=self.offset)


def parse_phase(phase: str) -> Timer | None:
    """Return the Timer encoded in a stored phase, or None for a phase without a timer."""
    kind, _, offset = phase.partition(":")
    if kind in (WORK, REST) and offset.isdigit():
        return Timer(kind, int(offset))
    return None


def start_timer(kind: str, segments: Sequence[Segment], now: datetime) -> tuple[Tick, Timer]:
    """Start a countdown now; return its first tick and the Timer to store."""
    tick = countdown(now, segments, now)
    assert tick.next_offset is not None, "a countdown needs at least one second"
    return tick, Timer(kind, tick.next_offset)


# ---------------------------------------------------------------- moving through the plan


@dataclass(frozen=True)
class Next:
    """Where the session goes after a set is logged."""

    position: int
    phase: str
    timer_due_at: datetime | None
    finished: bool
    rest: Tick | None = None


def after_set(plan: Plan, position: int, now: datetime) -> Next:
    """Return the state after the set at `position` is logged: rest, the next step, or the end."""
    step = plan.steps[position]
    nxt = position + 1
    if nxt >= len(plan.steps):
        return Next(nxt, STEP, None, finished=True)
    if step.rest_after > 0:
        tick, timer = start_timer(REST, rest_segments(step.rest_after), now)
        return Next(nxt, timer.phase, tick.next_due, finished=False, rest=tick)
    return Next(nxt, STEP, None, finished=False)


def is_stale(due: datetime, now: datetime, speed: float = 1.0) -> bool:
    """Return True when a timer is so overdue (downtime) that it must not be replayed.

    `speed` is app seconds per wall second: on a fast clock the cutoff stays 30 s of wall time,
    so a busy machine's short stall is not mistaken for downtime.
    """
    return now - due > STALE_AFTER * speed


_COUNT = re.compile(r"^[0-9]{1,3}$")


def parse_count(text: str) -> int | None:
    """Return a typed whole number from 0 to 200, or None for anything else."""
    cleaned = text.strip()
    if not _COUNT.match(cleaned):
        return None
    value = int(cleaned)
    return value if value <= MAX_COUNT else None


def fewer_choices(target: int) -> tuple[int, ...]:
    """Return the numbers offered after Fewer: everything below the target, at most 16 of them."""
    if target <= 16:
        return tuple(range(target))
    step = math.ceil(target / 15)
    return tuple(sorted({*range(0, target, step), target - 1}))


UNDO_SET = "set"  # take back the last logged set: back to its step
UNDO_STOP = "stop"  # take back a Stop: the session carries on where it was


def undo_kind(
    *, status: str, position: int, last_logged_at: datetime | None, ended_at: datetime | None,
    checked_in: bool, now: datetime,
) -> str | None:  # fmt: skip
    """Return what an Undo tapped now takes back, or None when it is too late.

    The last set can be taken back for a minute after it was logged, and a Stop for a minute
    after it; once the check-in has an answer, the session stays ended.
    """
    if status == STOPPED:
        fresh = ended_at is not None and now - ended_at <= UNDO_WINDOW
        return UNDO_STOP if fresh and not checked_in else None
    if status not in (ACTIVE, COMPLETED) or position == 0 or (checked_in and status != ACTIVE):
        return None
    fresh = last_logged_at is not None and now - last_logged_at <= UNDO_WINDOW
    return UNDO_SET if fresh else None


def outcome_for(actual: int, target: int) -> str:
    """Return the outcome of a set from the number done."""
    return DONE if actual >= target else FEWER_OUTCOME


# ---------------------------------------------------------------- callback data

TAP_PREFIX = "ws"
TAP_ACTIONS = {
    "d": "done",
    "f": "fewer",
    "s": "skip",
    "x": "stop",
    "g": "go",
    "r": "skip_rest",
    "b": "back",
    "u": "undo",
}
_TAP = re.compile(r"^ws:([0-9]{1,18}):([0-9]{1,4}):([dfsxgrbu]|n[0-9]{1,3})$")
_TAP_CODES = {action: code for code, action in TAP_ACTIONS.items()}


@dataclass(frozen=True)
class Tap:
    """A parsed session button: which session, which position, what action (and a count)."""

    session_id: int
    position: int
    action: str
    count: int | None = None

    def encode(self) -> str:
        """Return the compact callback data for this tap (at most 64 bytes)."""
        code = f"n{self.count}" if self.action == "count" else _TAP_CODES[self.action]
        data = f"{TAP_PREFIX}:{self.session_id}:{self.position}:{code}"
        assert len(data) <= 64  # ASCII only: characters are bytes
        return data


def parse_tap(data: str) -> Tap | None:
    """Return the Tap encoded in callback data, or None if it is malformed."""
    match = _TAP.match(data)
    if not match:
        return None
    sid, pos, code = int(match[1]), int(match[2]), match[3]
    if code.startswith("n"):
        count = int(code[1:])
        return Tap(sid, pos, "count", count) if count <= MAX_COUNT else None
    return Tap(sid, pos, TAP_ACTIONS[code])


# ---------------------------------------------------------------- summary


@dataclass(frozen=True)
class LoggedSet:
    """A logged set as the summary needs it."""

    position: int
    exercise: str
    side: str | None
    unit: str
    target: int
    actual: int
    outcome: str


@dataclass(frozen=True)
class Summary:
    """The end-of-session numbers."""

    routine_name: str
    duration: timedelta
    planned: int
    done: int
    fewer: int
    skipped: int
    totals: dict[str, int] = field(default_factory=dict)
    band: str | None = None
    finished: bool = True


def _counted(step: PlanStep | None, logged: LoggedSet) -> tuple[str, int]:
    """Return the unit a set adds to and how much; 'each' moves count twice, holds count reps."""
    unit = "reps" if logged.unit == "hold" else logged.unit
    times = 2 if step is not None and step.each else 1
    return unit, logged.actual * times


def summarise(
    plan: Plan,
    sets: Iterable[LoggedSet],
    started_at: datetime,
    ended_at: datetime,
    *,
    finished: bool,
) -> Summary:
    """Return the summary of a session from its plan and logged sets."""
    done = fewer = skipped = 0
    totals: dict[str, int] = {}
    for logged in sets:
        if logged.outcome == SKIPPED:
            skipped += 1
            continue
        done += 1
        fewer += logged.outcome == FEWER_OUTCOME
        unit, amount = _counted(plan.step(logged.position), logged)
        totals[unit] = totals.get(unit, 0) + amount
    return Summary(
        routine_name=plan.routine_name,
        duration=max(ended_at - started_at, timedelta(0)),
        planned=len(plan.steps),
        done=done,
        fewer=fewer,
        skipped=skipped,
        totals=totals,
        band=plan.band,
        finished=finished,
    )


# ---------------------------------------------------------------- suggestion


def ordered_routines(catalogue: Catalogue, goal: str | None, last: str | None) -> list[Routine]:
    """Return every routine with the suggested one first, then the others for the goal.

    Seed 001: the lower and the upper sequence each at least 3 times a week, so the catalogue's
    `suggested` routine (the superset, which does both) comes first every time, and the other
    routines for the member's goal follow as the alternatives or add-ons, starting after the
    one done last. A catalogue without a suggested routine rotates through the goal's routines.
    """
    routines = list(catalogue.routines.values())
    for_goal = [r for r in routines if goal in r.goals] or routines
    keys = [r.key for r in for_goal]
    after = keys.index(last) + 1 if last in keys else 0
    rotated = for_goal[after:] + for_goal[:after]
    first = [r for r in routines if r.suggested] or rotated[:1]
    unique: dict[str, Routine] = {}
    for routine in (*first, *rotated, *routines):
        unique.setdefault(routine.key, routine)
    return list(unique.values())


def suggest_routine(catalogue: Catalogue, goal: str | None, last: str | None) -> Routine:
    """Return the routine to offer first."""
    return ordered_routines(catalogue, goal, last)[0]


def _step(data: Mapping[str, Any]) -> PlanStep:
    """Return the plan step stored as `data`, built once for each distinct content."""
    key = tuple(data.items())
    found = _STEPS.get(key)
    if found is None:
        if len(_STEPS) >= STEP_CACHE:
            _STEPS.clear()
        found = _STEPS[key] = PlanStep(**data)
    return found
