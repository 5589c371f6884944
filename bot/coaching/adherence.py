"""Keeping at it: sessions this week, the weekly streak and the consistency score.

Pure. Everything counts local days (the member's zone when each session happened), and weeks
run Monday to Sunday, so rest days never break anything and a week stays a week across DST.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEKLY_GOAL = 3  # seed 001: at least three sessions a week
WINDOW_DAYS = 7
DECAY = 0.95  # the score keeps 95 % of yesterday's value: it halves in about two weeks
SCORE_FORMULA = (
    "each day: score = 0.95 × yesterday's score + 0.05 × min(1, sessions in the last 7 days ÷ 3),"
    " shown out of 100"
)


def local_day(at: datetime, zone: str) -> date:
    """Return the calendar day an aware UTC instant falls on in a time zone."""
    return at.astimezone(ZoneInfo(zone)).date()


def week_of(day: date) -> date:
    """Return the Monday of a day's week."""
    return day - timedelta(days=day.weekday())


def sessions_in_week(days: Iterable[date], today: date) -> int:
    """Return how many sessions fall in today's week (Monday to Sunday)."""
    monday = week_of(today)
    return sum(1 for day in days if monday <= day <= today)


def weekly_streak(days: Iterable[date], today: date, goal: int = WEEKLY_GOAL) -> int:
    """Return the run of weeks with at least `goal` sessions, up to today's week.

    The week in progress adds to the streak once it reaches the goal and never breaks it
    before it is over.
    """
    per_week = Counter(week_of(day) for day in days if day <= today)
    week = week_of(today)
    streak = 1 if per_week[week] >= goal else 0
    week -= timedelta(weeks=1)
    while per_week[week] >= goal:
        streak += 1
        week -= timedelta(weeks=1)
    return streak


def consistency(days: Iterable[date], today: date, goal: int = WEEKLY_GOAL) -> int:
    """Return the consistency score, 0-100 (see SCORE_FORMULA), after today.

    Each session raises it until the last 7 days hold the goal; rest days then keep it
    climbing, and it halves in about two weeks without training.
    """
    per_day = Counter(day for day in days if day <= today)
    if not per_day:
        return 0
    score, window = 0.0, 0
    day = min(per_day)
    while day <= today:
        window += per_day[day] - per_day[day - timedelta(days=WINDOW_DAYS)]
        score = DECAY * score + (1 - DECAY) * min(1.0, window / goal)
        day += timedelta(days=1)
    return round(score * 100)


@dataclass(frozen=True)
class Adherence:
    """How a member keeps at it, as /progress and the summary card show it."""

    this_week: int
    streak_weeks: int
    score: int
    goal: int = WEEKLY_GOAL


def adherence(days: Sequence[date], today: date) -> Adherence:
    """Return sessions this week, the weekly streak and the score for these session days."""
    return Adherence(
        sessions_in_week(days, today), weekly_streak(days, today), consistency(days, today)
    )


def weekly_pain(
    points: Iterable[tuple[date, int]], today: date, weeks: int = 4
) -> list[float | None]:
    """Return the average pain of each of the last `weeks` weeks, oldest first (None: none)."""
    first = week_of(today) - timedelta(weeks=weeks - 1)
    sums: list[list[int]] = [[] for _ in range(weeks)]
    for day, pain in points:
        index = (week_of(day) - first).days // 7
        if 0 <= index < weeks and day <= today:
            sums[index].append(pain)
    return [sum(s) / len(s) if s else None for s in sums]
