"""Reminder storage: next_due_at upkeep, indexed due queries and atomic slot claims.

Every slot is claimed by INSERTing its (user, kind, due_at) row, or by flipping a pending row
to "claimed", inside a write transaction; the unique constraint and the conditional UPDATE
make exactly one dispatcher win, also with two processes on one PostgreSQL. A claim is
committed before the message goes out, so a crash between the two loses that one reminder
rather than ever sending it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, case, func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching import schedule
from bot.coaching.checkin import decide_followup, followup_due
from bot.coaching.morning import decide_morning, morning_due, needs_check
from bot.coaching.schedule import Action, SlotContext
from bot.coaching.states import SessionStatus, SlotStatus
from storage.db import dialect_insert, for_dialect, run, upsert_insert
from storage.models import PainCheckin, ReminderSettings, ReminderSlot, User, WorkoutSession
from storage.progress import reached_band

REMINDER = "reminder"
SNOOZE = "snooze"
FOLLOWUP = "followup"  # "how did your back feel?" after a session without a check-in
MORNING = "morning"  # "how is your back this morning?" after a session with pain or a raise
# Slot statuses.
PENDING, CLAIMED, SENT = SlotStatus.PENDING, SlotStatus.CLAIMED, SlotStatus.SENT
SKIPPED, FAILED = SlotStatus.SKIPPED, SlotStatus.FAILED
SNOOZED, STARTED = SlotStatus.SNOOZED, SlotStatus.STARTED
DETAIL_MAX = 200


@dataclass(frozen=True)
class Claim:
    """A slot this process owns now: what to do with it and what to say."""

    slot_id: int
    user_id: int
    chat_id: int
    kind: str
    due_at: datetime
    action: Action
    first_name: str
    goal: str | None
    band: str | None
    timezone: str
    last_routine: str | None = None
    session_id: int | None = None  # the session a follow-up asks about
    plan_band: str | None = None  # the band the member's plan has reached, one they own


async def reschedule(session: AsyncSession, user_id: int, now: datetime) -> datetime | None:
    """Recompute and store the user's next_due_at from their settings; return it."""
    row = (
        await session.execute(
            select(ReminderSettings, User.timezone, User.is_active)
            .join(User, User.id == ReminderSettings.user_id)
            .where(ReminderSettings.user_id == user_id)
            .with_for_update(of=ReminderSettings)
        )
    ).one_or_none()
    if row is None:
        return None
    settings, zone, active = row
    settings.next_due_at = (
        schedule.next_due(
            days_mask=settings.days_mask,
            at=settings.local_time,
            zone=zone,
            after=now,
            enabled=settings.enabled,
            paused_until=settings.paused_until,
        )
        if active
        else None
    )
    await session.flush()
    return settings.next_due_at


async def ensure_scheduled(session: AsyncSession, user_id: int, now: datetime) -> None:
    """Schedule the next slot if reminders are on but nothing is scheduled (e.g. after /start)."""
    settings = await session.get(ReminderSettings, user_id)
    if settings is not None and settings.enabled and settings.next_due_at is None:
        await reschedule(session, user_id, now)


async def update_settings(
    session: AsyncSession, user_id: int, now: datetime, **changes: Any
) -> ReminderSettings:
    """Change reminder columns (days_mask, local_time, enabled, paused_until) and reschedule."""
    settings = await session.get(ReminderSettings, user_id, with_for_update=True)
    if settings is None:
        settings = ReminderSettings(user_id=user_id)
        session.add(settings)
    for name, value in changes.items():
        setattr(settings, name, value)
    await session.flush()
    await reschedule(session, user_id, now)
    return settings


async def set_timezone(session: AsyncSession, user_id: int, zone: str, now: datetime) -> None:
    """Save the user's IANA time zone and reschedule their reminders in it."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(timezone=zone, awaiting=None)
        .execution_options(synchronize_session=False)
    )
    await reschedule(session, user_id, now)


async def due_pending_slots(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Return ids of pending one-off slots (snoozes, follow-ups) due by `now` (indexed)."""
    rows = await run(session, _DUE_PENDING, {"b_now": now, "b_limit": limit})
    return list(rows.scalars())


# The status is written into the SQL, not bound: only then may SQLite, and PostgreSQL with a
# prepared statement's generic plan, use the partial index over pending slots (0009).
_DUE_PENDING = (
    select(ReminderSlot.id)
    .where(ReminderSlot.status == literal_column(f"'{PENDING}'"),
           ReminderSlot.due_at <= bindparam("b_now"))
    .order_by(ReminderSlot.due_at)
    .limit(bindparam("b_limit"))
)  # fmt: skip


async def insert_slot(
    session: AsyncSession,
    user_id: int,
    kind: str,
    due_at: datetime,
    now: datetime,
    *,
    status: str,
    detail: str | None = None,
    session_id: int | None = None,
) -> int | None:
    """Insert a slot row; return its id, or None when another process already holds it."""
    result = await run(session, for_dialect(session, _new_slot), {
        "b_user": user_id, "b_kind": kind, "b_due": due_at, "b_status": status,
        "b_detail": detail, "b_session": session_id, "b_now": now,
    })  # fmt: skip
    return result.scalar_one_or_none()  # type: ignore[no-any-return]


def _new_slot(dialect: str) -> Any:
    """Return the INSERT of a slot, unless the member already has one of its kind then."""
    return (
        dialect_insert(dialect, ReminderSlot)
        .values(user_id=bindparam("b_user"), kind=bindparam("b_kind"), due_at=bindparam("b_due"),
                status=bindparam("b_status"), detail=bindparam("b_detail"),
                session_id=bindparam("b_session"), claimed_at=bindparam("b_now"), attempts=0)
        .on_conflict_do_nothing(index_elements=["user_id", "kind", "due_at"])
        .returning(ReminderSlot.id)
    )  # fmt: skip


class Member(NamedTuple):
    """What the dispatcher reads of a member due in a crowded slot (plain row, no ORM)."""

    id: int
    chat_id: int
    first_name: str
    goal: str | None
    band: str | None
    timezone: str
    is_active: bool
    plan_band: str | None
    bands_owned: int | None


class Schedule(NamedTuple):
    """A member's reminder settings, as the dispatcher reads them (plain row, no ORM)."""

    user_id: int
    days_mask: int
    local_time: time
    enabled: bool
    paused_until: datetime | None
    next_due_at: datetime | None


_SETTINGS, _USERS = ReminderSettings.__table__, User.__table__
_DUE_MEMBERS = (
    select(*(_SETTINGS.c[name] for name in Schedule._fields),
           *(_USERS.c[name] for name in Member._fields))
    .join(_USERS, _USERS.c.id == _SETTINGS.c.user_id)
    .where(_SETTINGS.c.next_due_at <= bindparam("b_now"))
    .order_by(_SETTINGS.c.next_due_at)
    .limit(bindparam("b_limit"))
    .with_for_update(skip_locked=True, of=_SETTINGS)
)  # fmt: skip


@dataclass(frozen=True)
class Due:
    """A slot to decide: whose, which kind, when, and the member's reminder settings."""

    user: User | Member
    settings: ReminderSettings | Schedule | None
    kind: str
    due_at: datetime
    slot_id: int | None = None  # its own row, which must not count as "reminded today"


async def _slot_contexts(
    session: AsyncSession, slots: Sequence[Due], now: datetime, grace: timedelta
) -> list[SlotContext]:
    """Gather what the send-or-skip rule needs for each slot, in two queries for all of them:
    status, pause, and whether the member trained or was reminded that local day."""
    days = [schedule.local_day_bounds(slot.due_at, slot.user.timezone) for slot in slots]
    ids = list({slot.user.id for slot in slots})
    low, high = min(start for start, _ in days), max(end for _, end in days)
    trained = await session.execute(
        select(WorkoutSession.user_id, WorkoutSession.ended_at).where(
            WorkoutSession.user_id.in_(ids),
            WorkoutSession.status == SessionStatus.COMPLETED,
            WorkoutSession.ended_at >= low,
            WorkoutSession.ended_at < high,
        )
    )
    reminded = await session.execute(
        select(ReminderSlot.user_id, ReminderSlot.due_at, ReminderSlot.id).where(
            ReminderSlot.user_id.in_(ids),
            ReminderSlot.kind == REMINDER,
            ReminderSlot.status.in_((CLAIMED, SENT, SNOOZED, STARTED)),
            ReminderSlot.due_at >= low,
            ReminderSlot.due_at < high,
        )
    )
    own = {slot.slot_id for slot in slots if slot.slot_id is not None}
    others = [(user, at) for user, at, slot_id in reminded.all() if slot_id not in own]
    trained_at, reminded_at = _by_user(trained.all()), _by_user(others)
    return [
        SlotContext(
            due_at=slot.due_at,
            now=now,
            grace=grace,
            active=slot.user.is_active,
            enabled=slot.settings.enabled if slot.settings else False,
            paused_until=slot.settings.paused_until if slot.settings else None,
            trained_today=any(start <= t < end for t in trained_at.get(slot.user.id, ())),
            reminded_today=slot.kind == REMINDER
            and any(start <= t < end for t in reminded_at.get(slot.user.id, ())),
        )
        for slot, (start, end) in zip(slots, days, strict=True)
    ]


def _by_user(rows: Sequence[Any]) -> dict[int, list[datetime]]:
    """Group (user id, instant) rows by user."""
    grouped: dict[int, list[datetime]] = {}
    for user_id, at in rows:
        if at is not None:
            grouped.setdefault(user_id, []).append(at)
    return grouped


async def _last_routines(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, str]:
    """Return the routine of each member's newest session (members with none are left out)."""
    if not user_ids:
        return {}
    newest = (
        select(func.max(WorkoutSession.id))
        .where(WorkoutSession.user_id.in_(user_ids))
        .group_by(WorkoutSession.user_id)
    )
    rows = await session.execute(
        select(WorkoutSession.user_id, WorkoutSession.routine_key).where(
            WorkoutSession.id.in_(newest)
        )
    )
    return {user_id: routine for user_id, routine in rows.all()}


def _claim(
    slot_id: int, user: User | Member, kind: str, due_at: datetime, action: Action,
    routine: str | None,
) -> Claim:  # fmt: skip
    """Return a Claim from the user row and their last routine."""
    return Claim(
        last_routine=routine if action is Action.SEND else None,
        slot_id=slot_id,
        user_id=user.id,
        chat_id=user.chat_id,
        kind=kind,
        due_at=due_at,
        action=action,
        first_name=user.first_name,
        goal=user.goal,
        band=user.band,
        timezone=user.timezone,
        plan_band=reached_band(user, user.band),
    )


async def claim_scheduled(
    session: AsyncSession, now: datetime, grace: timedelta, limit: int
) -> tuple[list[Claim], int]:
    """Claim up to `limit` due recurring slots and advance each member's next_due_at.

    Returns the claims and how many members were due in the batch. One transaction and a few
    statements for the whole batch. On PostgreSQL rows another dispatcher is claiming right now
    are skipped, not waited for, so two or more dispatchers split the due list between them.
    """
    rows = (await run(session, _DUE_MEMBERS, {"b_now": now, "b_limit": limit})).all()
    if not rows:
        return [], 0
    cut = len(Schedule._fields)
    slots = [
        Due(Member(*row[cut:]), settings, REMINDER, settings.next_due_at)
        for row in rows
        if (settings := Schedule(*row[:cut])).next_due_at is not None  # always, by the query
    ]
    actions = [schedule.decide(c) for c in await _slot_contexts(session, slots, now, grace)]
    inserted = await session.execute(
        upsert_insert(session, ReminderSlot)
        .on_conflict_do_nothing(index_elements=["user_id", "kind", "due_at"])
        .returning(ReminderSlot.id, ReminderSlot.user_id),
        [
            {"user_id": slot.user.id, "kind": REMINDER, "due_at": slot.due_at, "claimed_at": now,
             "status": CLAIMED if action is Action.SEND else SKIPPED, "attempts": 0,
             "detail": None if action is Action.SEND else action.value}
            for slot, action in zip(slots, actions, strict=True)
        ],
    )  # fmt: skip
    slot_ids = {user_id: slot_id for slot_id, user_id in inserted.all()}
    await _advance(session, slots, actions, now)
    sending = [s.user.id for s, a in zip(slots, actions, strict=True) if a is Action.SEND]
    routines = await _last_routines(session, sending)
    claims = [
        _claim(slot_ids[s.user.id], s.user, REMINDER, s.due_at, a, routines.get(s.user.id))
        for s, a in zip(slots, actions, strict=True)
        if s.user.id in slot_ids  # a slot already there was another dispatcher's
    ]
    return claims, len(rows)


async def _advance(
    session: AsyncSession, slots: Sequence[Due], actions: Sequence[Action], now: datetime
) -> None:
    """Move each member's next_due_at to their next slot (none for an inactive member).

    One statement for the batch; the settings objects are left as read (never flushed).
    """
    moves = []
    for slot, action in zip(slots, actions, strict=True):
        settings = slot.settings
        assert settings is not None
        due = None
        if action is not Action.INACTIVE:
            due = schedule.next_due(
                days_mask=settings.days_mask, at=settings.local_time, zone=slot.user.timezone,
                after=max(now, slot.due_at), enabled=settings.enabled,
                paused_until=settings.paused_until,
            )  # fmt: skip
        moves.append({"b_user": settings.user_id, "b_due": due})
    await run(session, _NEXT_DUE, moves)


_NEXT_DUE = (
    update(ReminderSettings)
    .where(ReminderSettings.user_id == bindparam("b_user"))
    .values(next_due_at=bindparam("b_due"))
)


async def claim_pending(
    session: AsyncSession, slot_id: int, now: datetime, grace: timedelta
) -> Claim | None:
    """Claim a pending one-off slot by flipping its status; None if another process has it."""
    flipped = await session.execute(
        update(ReminderSlot)
        .where(ReminderSlot.id == slot_id, ReminderSlot.status == PENDING)
        .values(status=CLAIMED, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if flipped.rowcount != 1:  # type: ignore[attr-defined]
        return None
    slot = await session.get(ReminderSlot, slot_id, populate_existing=True)
    assert slot is not None
    user = await session.get(User, slot.user_id)
    assert user is not None
    if slot.kind == FOLLOWUP:  # not a reminder: it does not depend on the reminder switch
        action = await _followup_action(session, slot, user, now, grace)
    elif slot.kind == MORNING:  # nor does the next-morning question
        answer = await session.scalar(
            select(PainCheckin).where(PainCheckin.session_id == slot.session_id)
        )
        action = decide_morning(
            active=user.is_active, due_at=slot.due_at, now=now, grace=grace,
            needed=answer is not None and needs_check(answer.pain, answer.raised),
            answered=answer is not None and answer.morning is not None,
        )  # fmt: skip
    else:
        settings = await session.get(ReminderSettings, slot.user_id)
        due = Due(user, settings, slot.kind, slot.due_at, slot.id)
        action = schedule.decide((await _slot_contexts(session, [due], now, grace))[0])
    if action is not Action.SEND:
        slot.status, slot.detail = SKIPPED, action.value
    routine = (await _last_routines(session, [user.id])).get(user.id)
    claim = _claim(slot.id, user, slot.kind, slot.due_at, action, routine)
    return replace(claim, session_id=slot.session_id)


async def _followup_action(
    session: AsyncSession, slot: ReminderSlot, user: User, now: datetime, grace: timedelta
) -> Action:
    """Return whether a due follow-up goes out: not if checked in or a newer session began."""
    checked_in = await session.scalar(
        select(PainCheckin.id).where(PainCheckin.session_id == slot.session_id).limit(1)
    )
    newer = await session.scalar(
        select(WorkoutSession.id)
        .where(WorkoutSession.user_id == user.id, WorkoutSession.id > (slot.session_id or 0))
        .limit(1)
    )
    return decide_followup(
        active=user.is_active, due_at=slot.due_at, now=now, grace=grace,
        checked_in=checked_in is not None or slot.session_id is None, superseded=newer is not None,
    )  # fmt: skip


async def schedule_followup(
    session: AsyncSession, user_id: int, session_id: int, due_at: datetime, now: datetime
) -> None:
    """Add the pending follow-up for a session that just ended (at most one per due instant)."""
    await insert_slot(
        session, user_id, FOLLOWUP, due_at, now, status=PENDING, detail=f"session {session_id}",
        session_id=session_id,
    )  # fmt: skip


async def schedule_morning(
    session: AsyncSession, user: User, workout: WorkoutSession, now: datetime, at: time | None
) -> datetime:
    """Add the next-morning question about a session (once), at the member's reminder time
    `at` (None when reminders are off: 09:00)."""
    due = morning_due(workout.started_at, user.timezone, at)
    await insert_slot(
        session, user.id, MORNING, due, now, status=PENDING, detail=f"session {workout.id}",
        session_id=workout.id,
    )  # fmt: skip
    return due


async def cancel_followups(session: AsyncSession, session_id: int) -> None:
    """Drop a session's pending follow-up: the session is running again (an Undo)."""
    await session.execute(
        update(ReminderSlot)
        .where(
            ReminderSlot.session_id == session_id,
            ReminderSlot.kind == FOLLOWUP,
            ReminderSlot.status == PENDING,
        )
        .values(status=SKIPPED, detail="undone")
        .execution_options(synchronize_session=False)
    )


async def morning_due_at(session: AsyncSession, session_id: int) -> datetime | None:
    """Return when the next-morning question about a session is (or was) due, if any."""
    return await session.scalar(
        select(ReminderSlot.due_at)
        .where(ReminderSlot.session_id == session_id, ReminderSlot.kind == MORNING)
        .order_by(ReminderSlot.due_at.desc())
        .limit(1)
    )


async def schedule_idle_followups(
    session: AsyncSession, idle_before: datetime, now: datetime
) -> None:
    """Add follow-ups for the active sessions idle since `idle_before`, about to be abandoned."""
    rows = await session.execute(
        select(WorkoutSession.id, WorkoutSession.user_id, WorkoutSession.updated_at).where(
            WorkoutSession.status == SessionStatus.ACTIVE, WorkoutSession.updated_at < idle_before
        )
    )
    for session_id, user_id, last_tap in rows.all():
        await schedule_followup(session, user_id, session_id, followup_due(last_tap), now)


# A member may tap a nudge before its outcome is written: the tap's status stays.
_FINISH = (
    update(ReminderSlot)
    .where(ReminderSlot.id == bindparam("b_id"))
    .values(
        status=case(
            (ReminderSlot.status == CLAIMED, bindparam("b_status")), else_=ReminderSlot.status
        ),
        attempts=bindparam("b_attempts"), sent_at=bindparam("b_sent_at"),
        detail=bindparam("b_detail"),
    )
)  # fmt: skip


async def finish_many(
    session: AsyncSession, ended: Sequence[tuple[int, str, int, str | None]], now: datetime
) -> None:
    """Record how several claimed slots ended: (slot id, status, attempts, detail) each."""
    await run(
        session,
        _FINISH,
        [
            {"b_id": slot_id, "b_status": status, "b_attempts": attempts,
             "b_sent_at": now if status == SENT else None,
             "b_detail": detail[:DETAIL_MAX] if detail else None}
            for slot_id, status, attempts, detail in ended
        ],
    )  # fmt: skip


async def get_slot(session: AsyncSession, slot_id: int) -> ReminderSlot | None:
    """Return a slot by id."""
    return await session.get(ReminderSlot, slot_id)


TAPPABLE = (SENT, CLAIMED)  # a nudge on screen: sent, or claimed and not yet recorded as sent


async def transition(session: AsyncSession, slot_id: int, user_id: int, *, to_status: str) -> bool:
    """Move a member's nudge (see TAPPABLE) to a status atomically; False if it had moved on."""
    result = await session.execute(
        update(ReminderSlot)
        .where(
            ReminderSlot.id == slot_id,
            ReminderSlot.user_id == user_id,
            ReminderSlot.status.in_(TAPPABLE),
        )
        .values(status=to_status)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def snooze(
    session: AsyncSession, slot_id: int, user_id: int, now: datetime
) -> datetime | None:
    """Turn a sent reminder into exactly one pending slot an hour later; None if not snoozable."""
    if not await transition(session, slot_id, user_id, to_status=SNOOZED):
        return None
    due = schedule.snooze_due(now)
    await insert_slot(session, user_id, SNOOZE, due, now, status=PENDING, detail=f"of {slot_id}")
    return due


async def reminder_settings_view(
    session: AsyncSession, user_id: int
) -> tuple[User, ReminderSettings] | None:
    """Return the user and their reminder settings (created with defaults if missing)."""
    user = await session.get(User, user_id)
    if user is None:
        return None
    settings = await session.get(ReminderSettings, user_id)
    if settings is None:
        settings = ReminderSettings(
            user_id=user_id, days_mask=0b0010101, local_time=time(7, 0), enabled=True
        )
    return user, settings
