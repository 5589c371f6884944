"""What the progress chart and the shareable summary show, as plain data.

Pure: storage fills these, bot/charts.py draws them, and nothing here knows either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class TargetPoint:
    """An exercise's target on one local day, and the band it was done with."""

    day: date
    target: int
    band: str | None  # a colour of profile.BANDS, or None for an unbanded move


@dataclass(frozen=True)
class PainPoint:
    """One check-in: its local day, pain 0-10, and whether the low back was named."""

    day: date
    pain: int
    low_back: bool


@dataclass(frozen=True)
class ExerciseLine:
    """One exercise's targets over time, for the chart's first panel."""

    name: str
    unit: str  # "reps", "steps" or "s"
    points: tuple[TargetPoint, ...]


@dataclass(frozen=True)
class ChartData:
    """The two panels of the /progress chart: targets over time and pain per session."""

    title: str
    lines: tuple[ExerciseLine, ...]
    pain: tuple[PainPoint, ...]


@dataclass(frozen=True)
class SummaryCard:
    """The one-page summary a member can forward to a physio or a training partner."""

    name: str
    made_on: date
    weeks: int  # the period the card covers, in weeks (ending made_on)
    sessions: int  # sessions in that period
    goal_per_week: int
    streak_weeks: int
    score: int  # consistency, 0-100
    band: str | None  # the band the plan has reached (a colour of profile.BANDS) or None
    pain: tuple[PainPoint, ...]  # check-ins in the period, oldest first
    weaker: dict[str, int] = field(default_factory=dict)  # "left"/"right"/"same" → reports


@dataclass(frozen=True)
class SessionLine:
    """One session as /history lists it."""

    id: int
    routine_key: str
    started_at: datetime
    timezone: str
    status: str
    band: str | None
    done: int
    skipped: int
    pain: int | None


@dataclass(frozen=True)
class TargetRow:
    """An exercise's target in one session and the band it was done with."""

    started_at: datetime
    timezone: str
    exercise_key: str
    target: int
    band: str | None


@dataclass(frozen=True)
class SetRow:
    """One logged set with its session's routine and zone, for the CSV export."""

    logged_at: datetime
    timezone: str
    routine_key: str
    exercise_key: str
    side: str | None
    round_no: int
    target: int
    actual: int
    outcome: str
    unit: str
    band: str | None


@dataclass(frozen=True)
class CheckinRow:
    """One check-in with the zone of its session, for /progress and the CSV export."""

    created_at: datetime
    timezone: str
    pain: int
    areas: str
    weaker_side: str | None
    note: str | None
    morning: str | None
