"""Queries for guided sessions over workout_sessions and session_sets.

Every state change is a conditional UPDATE on the state the caller saw (position, phase and, for
timers, timer_due_at), so of two concurrent taps or two bot processes exactly one wins; the
unique (session_id, position) constraint is the last guard against logging a set twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import (
    String,
    Text,
    Update,
    and_,
    bindparam,
    cast,
    delete,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching.session import LoggedSet
from bot.coaching.states import Awaited, Awaiting, Phase, SessionStatus
from storage import live_messages as live
from storage.db import frozen_json, run
from storage.models import LiveMessage, SessionSet, User, WorkoutSession

ACTIVE = SessionStatus.ACTIVE
_SESSIONS = WorkoutSession.__table__


@dataclass(frozen=True)
class TimerMove:
    """A session leaving the timer it was claimed with for a new phase (and maybe a new timer)."""

    session_id: int
    position: int
    phase: str
    expected_due: datetime | None
    new_phase: str
    timer_due_at: datetime | None


async def get_session(session: AsyncSession, session_id: int) -> WorkoutSession | None:
    """Return a workout session by id."""
    return await session.get(WorkoutSession, session_id, populate_existing=True)


@dataclass(slots=True)
class SessionRow:
    """A workout session as read for a change, with its member's awaited input: plain values
    the caller updates as the change goes (the database changes through conditional updates
    only)."""

    id: int
    user_id: int
    routine_key: str
    rounds: int
    band: str | None
    timezone: str | None
    status: str
    plan: dict[str, Any]  # shared by sessions with the same plan: never changed in place
    position: int
    phase: str
    timer_due_at: datetime | None
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    last_logged_at: datetime | None
    awaiting: str | None  # the member's, as the change found it
    # The session's live message in the member's chat as read, unlocked (live.put's `seen`);
    # None once a change has written to it.
    live_row: live.Seen | None


LIVE_KEY = "ws"  # a session's live message is keyed "ws<session id>"


def live_key(session_id: int) -> str:
    """Return the live-message key of a session."""
    return f"{LIVE_KEY}{session_id}"


async def session_snapshot(
    session: AsyncSession, session_id: int, *, fresh: bool = False
) -> SessionRow | None:
    """Return a workout session by id as plain values (no ORM object to build and track), with
    its live message as it stands; `fresh` reads its plan again, too."""
    found = (await run(session, _SNAPSHOT, {"b_id": session_id})).first()
    if found is None:
        return None
    values: list[Any] = list(found[:_LIVE])
    values.insert(_PLAN, await plan_of(session, session_id, fresh=fresh))
    seen = found[_LIVE:]
    values.append(live.Seen(*seen) if seen[0] is not None else None)
    return SessionRow(*values)


# Sessions whose plan this process keeps, per database. A plan never changes once its
# session starts and a database never reuses a session id, so a kept plan stays right
# whatever other processes do: a tap does not fetch its several KB (kept out of line on
# PostgreSQL) again.
PLANS_KEPT = 4096
_PLANS: WeakKeyDictionary[object, dict[int, dict[str, Any]]] = WeakKeyDictionary()


async def plan_of(session: AsyncSession, session_id: int, *, fresh: bool = False) -> dict[str, Any]:
    """Return a session's plan, read once per process unless `fresh` (shared: never change it
    in place)."""
    kept = _PLANS.setdefault(session.get_bind(), {})
    plan = None if fresh else kept.get(session_id)
    if plan is None:
        text = (await run(session, _PLAN_OF, {"b_id": session_id})).scalar_one()
        if len(kept) >= PLANS_KEPT:
            del kept[next(iter(kept))]  # the oldest kept
        plan = kept[session_id] = frozen_json(text)
    return plan


_PLAN = SessionRow.__slots__.index("plan")
_SESSION_COLUMNS = [
    _SESSIONS.c[name] for name in SessionRow.__slots__[:-2] if name != "plan"
]  # all but the plan, the awaited input and the live message
_LIVE = len(_SESSION_COLUMNS) + 1  # where the live message's columns start
_SNAPSHOT = (
    select(*_SESSION_COLUMNS, User.awaiting, *live.SEEN_COLUMNS)
    .join(User, User.id == WorkoutSession.user_id)
    .outerjoin(
        LiveMessage,
        and_(
            LiveMessage.chat_id == User.chat_id,
            LiveMessage.key == literal(LIVE_KEY) + cast(WorkoutSession.id, String),
        ),
    )
    .where(WorkoutSession.id == bindparam("b_id"))
)
_PLAN_OF = select(cast(_SESSIONS.c.plan, Text)).where(_SESSIONS.c.id == bindparam("b_id"))


async def active_session(session: AsyncSession, user_id: int) -> WorkoutSession | None:
    """Return the user's active workout session, if any (the newest, should there be several)."""
    result = await session.execute(
        select(WorkoutSession)
        .where(WorkoutSession.user_id == user_id, WorkoutSession.status == ACTIVE)
        .order_by(WorkoutSession.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def last_routine(session: AsyncSession, user_id: int) -> str | None:
    """Return the routine of the user's most recent session, if any."""
    result = await session.execute(
        select(WorkoutSession.routine_key)
        .where(WorkoutSession.user_id == user_id)
        .order_by(WorkoutSession.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def last_plan(session: AsyncSession, user_id: int, routine_key: str) -> dict[str, Any] | None:
    """Return the plan of the user's most recent session of a routine, if any."""
    result = await session.execute(
        select(WorkoutSession.plan)
        .where(WorkoutSession.user_id == user_id, WorkoutSession.routine_key == routine_key)
        .order_by(WorkoutSession.id.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def create_session(
    session: AsyncSession,
    *,
    user_id: int,
    routine_key: str,
    rounds: int,
    band: str | None,
    plan: dict[str, Any],
    now: datetime,
) -> WorkoutSession | None:
    """Start a session, or return None when the user already has an active one.

    The user row is locked first so two concurrent starts for one user are serialised.
    """
    user = await session.get(User, user_id, with_for_update=True)
    if await active_session(session, user_id) is not None:
        return None
    row = WorkoutSession(
        user_id=user_id,
        routine_key=routine_key,
        rounds=rounds,
        band=band,
        timezone=user.timezone if user is not None else None,
        status=ACTIVE,
        plan=plan,
        position=0,
        phase=Phase.STEP,
        started_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def move(
    session: AsyncSession,
    session_id: int,
    *,
    position: int,
    phase: str,
    now: datetime,
    new_position: int | None = None,
    new_phase: str | None = None,
    timer_due_at: datetime | None = None,
    expected_due: datetime | None = None,
    status: str | None = None,
    logged_at: datetime | None = None,
) -> bool:
    """Move an active session from (position, phase) to a new state; False if it had moved on.

    With `expected_due` the move only happens if that timer is still the one pending, which is
    how a due timer is claimed by exactly one process.
    """
    params = _move_params(
        session_id, position=position, phase=phase, now=now, new_position=new_position,
        new_phase=new_phase, timer_due_at=timer_due_at, expected_due=expected_due,
        status=status, logged_at=logged_at,
    )  # fmt: skip
    statement = _move(expected_due is not None, status is not None, logged_at is not None)
    result = await run(session, statement, params)
    return result.rowcount == 1  # type: ignore[no-any-return]


def _move_params(
    session_id: int,
    *,
    position: int,
    phase: str,
    now: datetime,
    new_position: int | None = None,
    new_phase: str | None = None,
    timer_due_at: datetime | None = None,
    expected_due: datetime | None = None,
    status: str | None = None,
    logged_at: datetime | None = None,
) -> dict[str, Any]:
    """Return the bind parameters of a `move` (see there)."""
    return {
        "b_id": session_id, "b_active": ACTIVE, "b_position": position, "b_phase": phase,
        "b_due": expected_due, "b_new_position": position if new_position is None else new_position,
        "b_new_phase": phase if new_phase is None else new_phase,
        "b_timer": None if status is not None else timer_due_at, "b_now": now,
        "b_status": status, "b_logged": logged_at,
    }  # fmt: skip


@cache
def _move(timed: bool, ends: bool, logs: bool) -> Update:
    """Return the conditional UPDATE of `move` for one combination of its options."""
    conditions = [
        WorkoutSession.id == bindparam("b_id"),
        WorkoutSession.status == bindparam("b_active"),
        WorkoutSession.position == bindparam("b_position"),
        WorkoutSession.phase == bindparam("b_phase"),
    ]
    if timed:
        conditions.append(WorkoutSession.timer_due_at == bindparam("b_due"))
    values: dict[str, Any] = {
        "position": bindparam("b_new_position"),
        "phase": bindparam("b_new_phase"),
        "timer_due_at": bindparam("b_timer"),
        "updated_at": bindparam("b_now"),
    }
    if ends:
        values.update(status=bindparam("b_status"), ended_at=bindparam("b_now"))
    if logs:
        values["last_logged_at"] = bindparam("b_logged")
    return update(WorkoutSession).where(*conditions).values(**values)


_INSERT_SET = insert(SessionSet)  # every column bound by name at execution


async def log_set(
    session: AsyncSession,
    *,
    session_id: int,
    position: int,
    round_no: int,
    step_no: int,
    exercise_key: str,
    side: str | None,
    unit: str,
    target: int,
    actual: int,
    outcome: str,
    band: str | None,
    now: datetime,
) -> None:
    """Insert the set for a plan position (call only after winning the conditional move)."""
    values = {"session_id": session_id, "position": position, "round_no": round_no,
              "step_no": step_no, "exercise_key": exercise_key, "side": side, "unit": unit,
              "target": target, "actual": actual, "outcome": outcome, "band": band,
              "logged_at": now}  # fmt: skip
    await run(session, _INSERT_SET, values)


async def take_back(
    session: AsyncSession,
    session_id: int,
    *,
    status: str,
    position: int,
    new_position: int,
    now: datetime,
) -> bool:
    """Reopen a session at `new_position` on its step, dropping any later set; False if moved on.

    The conditional update makes a double Undo take back one thing only.
    """
    result = await session.execute(
        update(WorkoutSession)
        .where(
            WorkoutSession.id == session_id,
            WorkoutSession.status == status,
            WorkoutSession.position == position,
        )
        .values(status=ACTIVE, position=new_position, phase=Phase.STEP, timer_due_at=None,
                ended_at=None, last_logged_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await session.execute(
        delete(SessionSet).where(
            SessionSet.session_id == session_id, SessionSet.position >= new_position
        )
    )
    return True


async def end_session(
    session: AsyncSession, session_id: int, *, status: str, now: datetime
) -> bool:
    """Close an active session with a final status; False if it was already closed."""
    result = await session.execute(
        update(WorkoutSession)
        .where(WorkoutSession.id == session_id, WorkoutSession.status == ACTIVE)
        .values(status=status, ended_at=now, timer_due_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


_SETS = SessionSet.__table__
_SETS_OF = (
    select(
        _SETS.c.position, _SETS.c.exercise_key, _SETS.c.side, _SETS.c.unit, _SETS.c.target,
        _SETS.c.actual, _SETS.c.outcome,
    )
    .where(_SETS.c.session_id == bindparam("b_session"))
    .order_by(_SETS.c.position)
)  # fmt: skip


async def sets_of(session: AsyncSession, session_id: int) -> list[LoggedSet]:
    """Return a session's logged sets in plan order (plain rows: no ORM objects to build)."""
    return [LoggedSet(*row) for row in await run(session, _SETS_OF, {"b_session": session_id})]


class DueTimer(NamedTuple):
    """A session whose timer is due: what a timer pass reads of it."""

    id: int
    user_id: int
    chat_id: int
    plan: dict[str, Any]  # shared by sessions with the same plan: never changed in place
    position: int
    phase: str
    timer_due_at: datetime | None  # always set when claimed; None once moved to a step
    last_logged_at: datetime | None


# The due ids are locked and paged first, narrow, then their rows are read: sorting the wide
# rows (plans of several KB) of every due session costs PostgreSQL a sort on disk whenever
# its planner has no statistics yet, as right after a burst of new sessions.
_DUE_IDS = (
    select(_SESSIONS.c.id)
    .where(
        _SESSIONS.c.timer_due_at <= bindparam("b_now"),
        _SESSIONS.c.status == ACTIVE,
        _SESSIONS.c.id > bindparam("b_after"),
    )
    .order_by(_SESSIONS.c.id)
    .limit(bindparam("b_limit"))
    .with_for_update(skip_locked=True)
)
_DUE_TIMERS = (
    select(
        _SESSIONS.c.id, _SESSIONS.c.user_id, User.chat_id, cast(_SESSIONS.c.plan, Text),
        _SESSIONS.c.position, _SESSIONS.c.phase, _SESSIONS.c.timer_due_at,
        _SESSIONS.c.last_logged_at,
    )
    .join(User, User.id == _SESSIONS.c.user_id)
    .where(_SESSIONS.c.id.in_(_DUE_IDS.scalar_subquery()))
    .order_by(_SESSIONS.c.id)
    .with_for_update(of=_SESSIONS)  # already ours: this reads each row as it is, once locked
)  # fmt: skip


async def any_due_timer(session: AsyncSession, now: datetime) -> bool:
    """Return whether any active session's timer is due (a read: most polls find none)."""
    return (await run(session, _ANY_DUE, {"b_now": now})).first() is not None


_ANY_DUE = (
    select(_SESSIONS.c.id)
    .where(_SESSIONS.c.timer_due_at <= bindparam("b_now"), _SESSIONS.c.status == ACTIVE)
    .limit(1)
)


async def claim_due_timers(
    session: AsyncSession, now: datetime, limit: int, after: int = 0
) -> list[DueTimer]:
    """Return active sessions whose timer is due, locked for this write transaction.

    Pages go by session id: `after` is the last id of the previous page, so a pass sees each
    due session once, even one whose advance failed and stays due.

    On PostgreSQL rows another process is advancing are skipped, not waited for; on SQLite the
    write transaction already excludes every other writer. Either way the rows cannot change
    before this transaction ends, so their moves need no per-row check. (That rests on FOR
    UPDATE under READ COMMITTED, PostgreSQL's default, which returns each row as it is once
    locked; asyncpg reports no per-row count for move_timers to check.)
    """
    result = await run(session, _DUE_TIMERS, {"b_now": now, "b_after": after, "b_limit": limit})
    return [DueTimer(sid, user, chat, frozen_json(plan), *rest)
            for sid, user, chat, plan, *rest in result]  # fmt: skip


async def move_timers(session: AsyncSession, moves: Sequence[TimerMove], now: datetime) -> None:
    """Move sessions claimed by claim_due_timers off their timers, in one statement."""
    if not moves:
        return
    params = [
        _move_params(m.session_id, position=m.position, phase=m.phase, now=now,
                     new_phase=m.new_phase, timer_due_at=m.timer_due_at,
                     expected_due=m.expected_due)
        for m in moves
    ]  # fmt: skip
    result = await run(session, _move(True, False, False), params)
    if session.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(moves):
        raise RuntimeError("a claimed timer moved while locked")  # the caller goes row by row


async def abandon_idle(session: AsyncSession, idle_before: datetime, now: datetime) -> int:
    """Close active sessions untouched since `idle_before` as abandoned; return how many."""
    result = await session.execute(
        update(WorkoutSession)
        .where(WorkoutSession.status == ACTIVE, WorkoutSession.updated_at < idle_before)
        .values(status=SessionStatus.ABANDONED, ended_at=now, timer_due_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def clear_session_awaiting(
    session: AsyncSession, user_id: int, session_id: int, position: int
) -> None:
    """Stop waiting for typed input about a session at `position`, leaving other waits alone."""
    about = (Awaited(Awaiting.SESSION, session_id), Awaited(Awaiting.COUNT, session_id, position))
    await session.execute(
        update(User)
        .where(User.id == user_id, User.awaiting.in_([a.encode() for a in about]))
        .values(awaiting=None)
        .execution_options(synchronize_session=False)
    )
