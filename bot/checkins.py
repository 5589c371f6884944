"""Check-ins against the database: may this tap apply, and saving an answer with its new plan.

Every tap is checked here first. The pain and the areas are saved as soon as they are tapped
(with no side yet), so a check-in left half-way still counts; the last tap completes it.
Each save is one write transaction that
holds the user's row lock: it re-checks, compares with a stored answer (a double tap changes
nothing), runs the progression engine from the prescription the session was built on, stores
the routines that changed and the check-in, and waits for an optional note.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import coach
from bot.coaching.catalogue import Catalogue
from bot.coaching.checkin import Logged, areas_text, may_reanswer, parse_areas, session_result
from bot.coaching.morning import needs_check
from bot.coaching.profile import owned_bands
from bot.coaching.progression import (
    SIDE_WINDOW,
    CheckIn,
    Progression,
    changed_routines,
    next_prescription,
    prescription_from_json,
)
from bot.coaching.screen import LiveRef
from bot.coaching.session import Plan
from bot.coaching.states import Awaited, Awaiting
from storage import progress as store
from storage import reminders as reminder_store
from storage import repositories as repo
from storage import sessions as session_store
from storage.db import Database
from storage.models import PainCheckin, ReminderSettings, WorkoutSession

# Whether a check-in tap may apply to a session.
OPEN = "open"  # no check-in yet, and it is the session a new check-in applies to
REANSWER = "reanswer"  # answered less than 12 hours ago, and still the newest session
UNKNOWN = "unknown"
NOT_YOURS = "not_yours"
RUNNING = "running"
CLOSED = "closed"
ALREADY = "already"


@dataclass(frozen=True)
class Target:
    """A session a check-in tap or /checkin is about, and whether it may be answered."""

    status: str
    session: WorkoutSession | None = None
    checkin: PainCheckin | None = None

    @property
    def answerable(self) -> bool:
        """Return True when answers may be saved for this session now."""
        return self.status in (OPEN, REANSWER)


@dataclass(frozen=True)
class Saved:
    """How saving an answer ended, and what it changed."""

    status: str
    progression: Progression | None = None
    reminder: datetime | None = None
    timezone: str = "UTC"
    again: bool = False  # a complete answer was already stored and this one replaced it
    shown: tuple[LiveRef, ...] | None = None  # live messages written with the answer
    morning: datetime | None = None  # when the next-morning question is due, if it is asked


# Writes the screens that show a saved answer, in the transaction that saved it.
ShowSaved = Callable[[AsyncSession, Saved], Awaitable[tuple[LiveRef, ...]]]
# Writes the screen that shows the note was skipped, in the same transaction.
ShowNote = Callable[[AsyncSession], Awaitable[tuple[LiveRef, ...]]]


def stored_answer(row: PainCheckin) -> CheckIn:
    """Return a stored check-in as the engine's input."""
    return CheckIn(row.pain, parse_areas(row.areas), row.weaker_side)


async def _target(session: AsyncSession, user_id: int, session_id: int, now: datetime) -> Target:
    """Return whether a check-in for `session_id` may be saved by this user now."""
    row = await session_store.get_session(session, session_id)
    if row is None:
        return Target(UNKNOWN)
    if row.user_id != user_id:
        return Target(NOT_YOURS)
    if row.status == session_store.ACTIVE:
        return Target(RUNNING, row)
    existing = await store.get_checkin(session, session_id)
    if existing is None:
        opened = await store.open_session_id(session, user_id)
        return Target(OPEN if opened == row.id else CLOSED, row)
    newest = await store.newest_session_id(session, user_id)
    fresh = newest == row.id and may_reanswer(existing.created_at, now)
    return Target(REANSWER if fresh else CLOSED, row, existing)


async def check_tap(db: Database, user_id: int, session_id: int, now: datetime) -> Target:
    """Return whether a check-in tap on this session may apply now."""
    async with db.read() as session:
        return await _target(session, user_id, session_id, now)


async def for_command(db: Database, user_id: int, now: datetime) -> Target:
    """Return what /checkin applies to: an open session, else a re-answerable one, else why not."""
    async with db.read() as session:
        opened = await store.open_session(session, user_id)
        if opened is not None:
            return Target(OPEN, opened)
        newest = await store.newest_session_id(session, user_id)
        if newest is None:
            return Target(UNKNOWN)
        return await _target(session, user_id, newest, now)


async def save_answer(
    db: Database,
    catalogue: Catalogue,
    user_id: int,
    session_id: int,
    answer: CheckIn,
    now: datetime,
    *,
    partial: bool = False,
    show: ShowSaved | None = None,
    coaches: Sequence[int] = (),
) -> Saved:
    """Save a check-in (or replace one within 12 hours) and recompute the prescription.

    A partial answer (pain, areas, no side yet) is stored only while no complete answer
    exists: a re-answer replaces a complete one on its last tap, never half-way. Once the
    areas are known, high pain alerts the `coaches` who asked for it (once per check-in).
    """
    async with db.write() as session:
        user = await store.lock_user(session, user_id)
        target = await _target(session, user_id, session_id, now)
        if user is None or not target.answerable or target.session is None:
            return Saved(target.status)
        if partial and target.checkin is not None and target.checkin.weaker_side is not None:
            return Saved(target.status)
        if target.checkin is not None and stored_answer(target.checkin) == answer:
            return Saved(ALREADY)
        current = await store.load_prescription(session, user_id, catalogue, user.band)
        base = current
        if target.checkin is not None and target.checkin.base_prescription is not None:
            base = prescription_from_json(catalogue, target.checkin.base_prescription)
        logged = await session_store.sets_of(session, session_id)
        result = session_result(
            Plan.from_json(target.session.plan),
            [Logged(s.position, s.actual) for s in logged],
            target.session.status,
        )
        history = await store.side_history(session, user_id, session_id, SIDE_WINDOW - 1)
        progression = next_prescription(
            catalogue, base, result, answer, [*history, answer.weaker_side],
            owned_bands(user.bands_owned),
        )  # fmt: skip
        changed = changed_routines(current, progression.prescription)
        await store.save_routines(
            session, user_id, catalogue, progression.prescription, changed, now
        )
        await store.record_checkin(
            session, user_id=user_id, session_id=session_id, pain=answer.pain,
            areas=areas_text(answer.areas), weaker_side=answer.weaker_side,
            base=base.to_json(), raised=progression.raised, now=now,
        )  # fmt: skip
        settings = await session.get(ReminderSettings, user_id)
        reminders = settings if settings is not None and settings.enabled else None
        morning = None
        if needs_check(answer.pain, progression.raised):
            at = reminders.local_time if reminders is not None else None
            morning = await reminder_store.schedule_morning(session, user, target.session, now, at)
        await repo.set_awaiting(session, user_id, Awaited(Awaiting.NOTE, session_id).encode())
        reminder = reminders.next_due_at if reminders is not None else None
        # A stored answer without a side is one left half-way, not a previous answer.
        again = target.checkin is not None and target.checkin.weaker_side is not None
        saved = Saved(target.status, progression, reminder, user.timezone, again, morning=morning)
        shown = await show(session, saved) if show is not None else ()
        if answer.areas or not partial:
            shown += await coach.pain_alert(session, coaches, user, session_id, answer, now)
        return replace(saved, shown=shown)


async def save_note(db: Database, user_id: int, awaited: Awaited, note: str, now: datetime) -> bool:
    """Attach a typed note to the check-in just answered; False if none (or too old, 12 h)."""
    sid = awaited.session_id
    if sid is None:
        return False
    async with db.write() as session:
        await repo.set_awaiting(session, user_id, None)
        row = await store.get_checkin(session, sid)
        if row is None or not may_reanswer(row.created_at, now):
            return False
        return await store.save_note(session, user_id, sid, note)


async def skip_note(
    db: Database, user_id: int, session_id: int, show: ShowNote
) -> tuple[LiveRef, ...] | None:
    """Stop waiting for a note about the member's session and show it; None if not theirs."""
    async with db.write() as session:
        row = await session_store.get_session(session, session_id)
        if row is None or row.user_id != user_id or row.status == session_store.ACTIVE:
            return None
        user = await repo.get_user(session, user_id)
        if user is not None and user.awaiting == Awaited(Awaiting.NOTE, session_id).encode():
            await repo.set_awaiting(session, user_id, None)
        return await show(session)
