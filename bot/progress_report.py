"""/progress and /summary: a member's adherence, targets and pain, as text and PNG charts.

The charts are drawn in a worker thread (two at a time, BotData.render_slots), so other members'
updates keep flowing on the event loop while matplotlib works. matplotlib is imported on the
first chart, not at start-up (it takes most of a second).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot import progress as plans
from bot.coaching import report_texts as rt
from bot.coaching.adherence import adherence, local_day, weekly_pain
from bot.coaching.catalogue import Catalogue
from bot.coaching.checkin import parse_areas
from bot.coaching.checkin_texts import NEED_START
from bot.coaching.profile import BANDS
from bot.coaching.progression import LOW_BACK, Prescription, amount, routine_exercises
from bot.coaching.report_data import (
    ChartData,
    CheckinRow,
    ExerciseLine,
    PainPoint,
    SummaryCard,
    TargetPoint,
    TargetRow,
)
from bot.coaching.report_keyboards import summary_keyboard
from bot.coaching.screen import PHOTO, Attachment, Reply, Screen
from bot.context import BotData
from storage import reports as store
from storage import repositories as repo

CHART_WEEKS = 8
SUMMARY_WEEKS = 4
SIDES_SHOWN = 10  # the balance counts the last 10 check-ins that named a side
_UNITS = {"reps": "reps", "steps": "steps", "seconds": "s", "hold": "reps"}


@dataclass(frozen=True)
class Facts:
    """Everything /progress and /summary draw on, read in one transaction."""

    name: str
    zone: str
    today: date
    days: list[date]
    targets: list[TargetRow]
    checkins: list[CheckinRow]
    pains: tuple[PainPoint, ...]  # the check-ins as chart points, in the same order
    prescription: Prescription
    band: str | None


async def _facts(deps: BotData, user_id: int) -> Facts | None:
    """Return a set-up member's facts, or None for someone who has not finished /start."""
    now = deps.clock()
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
        if user is None or user.onboarding_step is not None:
            return None
        zone = user.timezone
        starts = await store.session_starts(session, user_id, zone)
        since = now - timedelta(weeks=CHART_WEEKS)
        targets = await store.target_history(session, user_id, zone, since)
        checkins = await store.checkin_rows(session, user_id, zone)
        prescription = await plans.prescription(session, deps.catalogue, user_id)
        band = user.plan_band or user.band
    days = [local_day(at, tz) for at, tz in starts]
    today = local_day(now, zone)
    pains = _pain_points(checkins)
    return Facts(user.first_name, zone, today, days, targets, checkins, pains, prescription, band)


def current_targets(
    catalogue: Catalogue, rx: Prescription, done: set[str]
) -> list[tuple[str, str, str | None]]:
    """Return (exercise, target, band) for each exercise the member has done, in routine order."""
    seen: dict[str, tuple[str, str, str | None]] = {}
    for key, routine_rx in rx.routines.items():
        for exercise in routine_exercises(catalogue, catalogue.routine(key)):
            if exercise.key in seen or exercise.key not in done:
                continue
            target, hold = routine_rx.load(exercise)
            band = rt.band_words(routine_rx.band) if exercise.band else None
            seen[exercise.key] = (
                exercise.name,
                amount(exercise, target, sides=True, hold=hold),
                band,
            )
    return list(seen.values())


def _pain_points(rows: list[CheckinRow]) -> tuple[PainPoint, ...]:
    """Return check-ins as chart points on their local days, oldest first."""
    return tuple(
        PainPoint(
            local_day(r.created_at, r.timezone),
            r.pain,
            r.pain > 0 and LOW_BACK in parse_areas(r.areas),
        )
        for r in rows
    )


def chart_data(catalogue: Catalogue, facts: Facts) -> ChartData:
    """Return the two panels of the /progress chart."""
    lines: dict[str, list[TargetPoint]] = {}
    for row in facts.targets:
        point = TargetPoint(local_day(row.started_at, row.timezone), row.target, row.band)
        lines.setdefault(row.exercise_key, []).append(point)
    named = []
    for key, points in lines.items():
        exercise = catalogue.exercises.get(key)
        name, unit = (
            (exercise.name, _UNITS.get(exercise.unit, exercise.unit)) if exercise else (key, "")
        )
        named.append(ExerciseLine(name, unit, tuple(points)))
    since = facts.today - timedelta(weeks=CHART_WEEKS)
    title = (
        f"{facts.name}'s last {CHART_WEEKS} weeks" if facts.name else f"Last {CHART_WEEKS} weeks"
    )
    return ChartData(title, tuple(named), tuple(p for p in facts.pains if p.day >= since))


def _draw(name: str, data: object) -> bytes:
    """Draw with bot.charts' function `name` (importing matplotlib takes most of a second, so
    the first chart imports it here, in the worker thread)."""
    from bot import charts

    draw: Callable[[Any], bytes] = getattr(charts, name)
    return draw(data)


async def _render(deps: BotData, name: str, data: object) -> bytes:
    """Draw a chart in a worker thread, a few at a time."""
    async with deps.render_slots:
        return await asyncio.to_thread(_draw, name, data)


async def progress(deps: BotData, user_id: int) -> Reply:
    """Return /progress: the summary text, then the chart with a button for the summary card."""
    facts = await _facts(deps, user_id)
    if facts is None:
        return Reply.text(NEED_START)
    if not facts.days and not facts.checkins and not facts.targets:
        return Reply.text(rt.NO_DATA)
    adh = adherence(facts.days, facts.today)
    done = {row.exercise_key for row in facts.targets}
    targets = current_targets(deps.catalogue, facts.prescription, done)
    pains = [(p.day, p.pain) for p in facts.pains]
    sides = [r.weaker_side for r in facts.checkins if r.weaker_side][-SIDES_SHOWN:]
    text = rt.progress_text(facts.name, adh, targets, weekly_pain(pains, facts.today), sides)
    png = await _render(deps, "render_progress", chart_data(deps.catalogue, facts))
    chart = Attachment(PHOTO, "progress.png", png, rt.CHART_CAPTION, summary_keyboard())
    return Reply(send=(Screen(text),), files=(chart,))


def summary_card(facts: Facts) -> SummaryCard:
    """Return the shareable one-page summary of the last SUMMARY_WEEKS weeks."""
    since = facts.today - timedelta(weeks=SUMMARY_WEEKS) + timedelta(days=1)
    adh = adherence(facts.days, facts.today)
    recent = [(r, p) for r, p in zip(facts.checkins, facts.pains, strict=True) if p.day >= since]
    weaker = Counter(r.weaker_side for r, _ in recent if r.weaker_side)
    return SummaryCard(
        name=facts.name, made_on=facts.today, weeks=SUMMARY_WEEKS,
        sessions=sum(1 for d in facts.days if since <= d <= facts.today),
        goal_per_week=adh.goal, streak_weeks=adh.streak_weeks, score=adh.score,
        band=facts.band if facts.band in BANDS else None,
        pain=tuple(p for _, p in recent), weaker=dict(weaker),
    )  # fmt: skip


async def summary(deps: BotData, user_id: int) -> Reply:
    """Return /summary: one PNG with adherence, pain trend, weaker side and band level."""
    facts = await _facts(deps, user_id)
    if facts is None:
        return Reply.text(NEED_START)
    if not facts.days and not facts.checkins:
        return Reply.text(rt.NO_DATA)
    png = await _render(deps, "render_summary", summary_card(facts))
    caption = rt.SUMMARY_CAPTION.format(weeks=SUMMARY_WEEKS)
    return Reply(files=(Attachment(PHOTO, "band-coach-summary.png", png, caption),))
