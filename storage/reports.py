"""Read-only queries behind /progress, /history, /export and /stats.

A session counts as training once one of its sets was done (more than zero reps, steps or
seconds); dates are local to the zone the member was in when the session started.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, case, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching.coach import ALERT_KINDS, alert_key
from bot.coaching.report_data import CheckinRow, SessionLine, SetRow, TargetRow
from storage.models import (
    ExerciseTarget,
    LiveMessage,
    PainCheckin,
    ReminderSettings,
    ReminderSlot,
    RoutinePlan,
    SessionSet,
    User,
    WorkoutSession,
)


def _trained() -> ColumnElement[bool]:
    """Return the condition 'this session has a set that was done'."""
    return exists().where(SessionSet.session_id == WorkoutSession.id, SessionSet.actual > 0)


def _zone(fallback: str) -> ColumnElement[str]:
    """Return the session's zone, or the member's zone now for sessions from before 0008."""
    return func.coalesce(WorkoutSession.timezone, fallback)


async def session_starts(
    session: AsyncSession, user_id: int, zone: str
) -> list[tuple[datetime, str]]:
    """Return when each session that counts as training started, and in which zone."""
    result = await session.execute(
        select(WorkoutSession.started_at, _zone(zone))
        .where(WorkoutSession.user_id == user_id, _trained())
        .order_by(WorkoutSession.started_at)
    )
    return [(at, tz) for at, tz in result.all()]


async def target_history(
    session: AsyncSession, user_id: int, zone: str, since: datetime
) -> list[TargetRow]:
    """Return each exercise's target per session since `since`, oldest first."""
    result = await session.execute(
        select(
            WorkoutSession.started_at,
            _zone(zone),
            SessionSet.exercise_key,
            func.max(SessionSet.target),
            func.max(SessionSet.band),
        )
        .join(WorkoutSession, SessionSet.session_id == WorkoutSession.id)
        .where(WorkoutSession.user_id == user_id, WorkoutSession.started_at >= since)
        .group_by(WorkoutSession.id, WorkoutSession.started_at, SessionSet.exercise_key)
        .order_by(WorkoutSession.started_at, WorkoutSession.id)
    )
    return [TargetRow(*row) for row in result.all()]


async def checkin_rows(
    session: AsyncSession, user_id: int, zone: str, since: datetime | None = None
) -> list[CheckinRow]:
    """Return the member's check-ins (since `since`), oldest first."""
    query = (
        select(
            PainCheckin.created_at,
            _zone(zone),
            PainCheckin.pain,
            PainCheckin.areas,
            PainCheckin.weaker_side,
            PainCheckin.note,
            PainCheckin.morning,
        )
        .outerjoin(WorkoutSession, PainCheckin.session_id == WorkoutSession.id)
        .where(PainCheckin.user_id == user_id)
        .order_by(PainCheckin.created_at, PainCheckin.id)
    )
    if since is not None:
        query = query.where(PainCheckin.created_at >= since)
    return [CheckinRow(*row) for row in (await session.execute(query)).all()]


async def set_rows(session: AsyncSession, user_id: int, zone: str) -> list[SetRow]:
    """Return every set the member logged, oldest first."""
    result = await session.execute(
        select(
            SessionSet.logged_at,
            _zone(zone),
            WorkoutSession.routine_key,
            SessionSet.exercise_key,
            SessionSet.side,
            SessionSet.round_no,
            SessionSet.target,
            SessionSet.actual,
            SessionSet.outcome,
            SessionSet.unit,
            SessionSet.band,
        )
        .join(WorkoutSession, SessionSet.session_id == WorkoutSession.id)
        .where(WorkoutSession.user_id == user_id)
        .order_by(SessionSet.logged_at, SessionSet.id)
    )
    return [SetRow(*row) for row in result.all()]


async def count_sessions(session: AsyncSession, user_id: int) -> int:
    """Return how many sessions a member has (any status)."""
    total = await session.scalar(select(func.count()).where(WorkoutSession.user_id == user_id))
    return int(total or 0)


async def member_counts(session: AsyncSession, user_id: int) -> tuple[int, int, int]:
    """Return how many sessions, sets and check-ins a member has."""
    sets = (
        select(func.count())
        .select_from(SessionSet)
        .join(WorkoutSession, SessionSet.session_id == WorkoutSession.id)
        .where(WorkoutSession.user_id == user_id)
    )
    checkins = select(func.count()).where(PainCheckin.user_id == user_id)
    counted = [await session.scalar(q) for q in (sets, checkins)]
    return await count_sessions(session, user_id), int(counted[0] or 0), int(counted[1] or 0)


async def history_page(
    session: AsyncSession, user_id: int, zone: str, *, offset: int, limit: int
) -> list[SessionLine]:
    """Return one page of sessions, newest first."""
    done = func.count(case((SessionSet.actual > 0, 1)))
    skipped = func.count(case((SessionSet.actual == 0, 1)))
    result = await session.execute(
        select(
            WorkoutSession.id,
            WorkoutSession.routine_key,
            WorkoutSession.started_at,
            _zone(zone),
            WorkoutSession.status,
            WorkoutSession.band,
            done,
            skipped,
            func.max(PainCheckin.pain),
        )
        .outerjoin(SessionSet, SessionSet.session_id == WorkoutSession.id)
        .outerjoin(PainCheckin, PainCheckin.session_id == WorkoutSession.id)
        .where(WorkoutSession.user_id == user_id)
        .group_by(WorkoutSession.id)
        .order_by(WorkoutSession.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return [SessionLine(*row) for row in result.all()]


async def delete_member(session: AsyncSession, user_id: int) -> int:
    """Delete every row about a member, in every table; return how many users went (0 or 1).

    The foreign keys cascade too, but each table is named here so nothing rests on them.
    """
    sessions = select(WorkoutSession.id).where(WorkoutSession.user_id == user_id)
    ids = (await session.scalars(sessions)).all()
    alert_keys = [alert_key(kind, session_id) for session_id in ids for kind in ALERT_KINDS]
    await session.execute(delete(SessionSet).where(SessionSet.session_id.in_(sessions)))
    for model in (PainCheckin, ReminderSlot, ExerciseTarget, RoutinePlan, ReminderSettings):
        await session.execute(delete(model).where(model.user_id == user_id))
    await session.execute(delete(WorkoutSession).where(WorkoutSession.user_id == user_id))
    stale = or_(LiveMessage.user_id == user_id, LiveMessage.key.in_(alert_keys))
    await session.execute(delete(LiveMessage).where(stale))
    result = await session.execute(delete(User).where(User.id == user_id))
    return result.rowcount or 0  # type: ignore[attr-defined]


async def stats(
    session: AsyncSession, now: datetime, week_start: datetime, high_pain: int
) -> tuple[int, int, int, int, int, list[tuple[str, datetime, str, int]]]:
    """Return members, active, sessions this week, on track, blocked, and recent high pain.

    Active means a session that counts in the last 7 days; on track, 3 or more of them. High
    pain lists (first name, when, zone, pain) of check-ins at or above `high_pain`.
    """
    week_ago = now - timedelta(days=7)
    members = select(User.id).where(User.onboarded_at.is_not(None))
    member_count = await session.scalar(select(func.count()).select_from(members.subquery()))
    blocked = await session.scalar(
        select(func.count()).where(User.onboarded_at.is_not(None), User.is_active.is_(False))
    )
    recent = (
        select(WorkoutSession.user_id, func.count().label("n"))
        .where(WorkoutSession.started_at >= week_ago, _trained())
        .group_by(WorkoutSession.user_id)
        .subquery()
    )
    active, on_track = (
        await session.execute(select(func.count(), func.count(case((recent.c.n >= 3, 1)))))
    ).one()
    this_week = await session.scalar(
        select(func.count()).where(WorkoutSession.started_at >= week_start, _trained())
    )
    pain = await session.execute(
        select(User.first_name, PainCheckin.created_at, User.timezone, PainCheckin.pain)
        .join(User, User.id == PainCheckin.user_id)
        .where(PainCheckin.created_at >= week_ago, PainCheckin.pain >= high_pain)
        .order_by(PainCheckin.created_at.desc())
        .limit(50)
    )
    return (
        int(member_count or 0), int(active), int(this_week or 0), int(on_track),
        int(blocked or 0), [(name, at, tz, level) for name, at, tz, level in pain.all()],
    )  # fmt: skip
