"""The guided warm-up service: taps, typed counts and their transactions, as Replies.

Everything about a running session is in the database (position, phase, pending timer,
awaited input), and so is what its live message should show: each change writes the new screen
in the same transaction, and delivery brings Telegram up to date. Buttons carry (session,
position, action) and are checked against the database on every tap; state changes are
conditional updates, so double taps, stale buttons and two bot processes never log a set twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching import session_texts as t
from bot.coaching.checkin import followup_due
from bot.coaching.guards import Refusal, SessionFacts, refusal_for
from bot.coaching.screen import Button, Chat, LiveRef, Reply, Screen
from bot.coaching.session import (
    ACTIVE,
    COMPLETED,
    FEWER,
    SKIPPED,
    STEP,
    STOPPED,
    UNDO_SET,
    UNDO_WINDOW,
    WORK,
    Plan,
    PlanStep,
    Tap,
    after_set,
    outcome_for,
    parse_count,
    parse_tap,
    start_timer,
    undo_kind,
    work_segments,
)
from bot.coaching.session_screens import SessionState, session_screen, summary_screen
from bot.coaching.states import Awaited, Awaiting
from bot.context import BotData
from bot.delivery import Lane
from storage import live_messages as live
from storage import progress as checkin_store
from storage import reminders as followups
from storage import repositories as repo
from storage import sessions as store
from storage.models import WorkoutSession

REFUSALS: dict[Refusal, str] = {
    Refusal.UNKNOWN: t.BAD_BUTTON,
    Refusal.NOT_YOURS: t.NOT_YOURS,
    Refusal.ENDED: t.SESSION_ENDED,
    Refusal.DONE_ALREADY: t.STEP_DONE,
    Refusal.NOT_NOW: t.NOT_NOW,
    Refusal.UNDONE_ALREADY: t.UNDONE_ALREADY,
}


Shown = tuple[LiveRef, ...]  # the live messages a change wrote, for delivery to push
Row = store.SessionRow
AnyRow = WorkoutSession | store.SessionRow  # a session just started or set up is an ORM row


def state_of(row: AnyRow | store.DueTimer) -> SessionState:
    """Return the part of a session row its screen is drawn from."""
    last = row.last_logged_at
    undo_until = last + UNDO_WINDOW if last is not None else None
    return SessionState(row.id, row.plan, row.position, row.phase, row.timer_due_at, undo_until)


def step_of(row: Row) -> PlanStep:
    """Return the plan step at the session's position."""
    return Plan.from_json(row.plan).steps[row.position]


async def show(
    session: AsyncSession,
    deps: BotData,
    row: AnyRow,
    chat_id: int,
    now: datetime,
    *,
    screen: Screen | None = None,
    lane: Lane = Lane.REPLY,
    message_id: int | None = None,
    adopt: int | None = None,
    new_message: bool = False,
) -> Shown:
    """Write what the session's live message shows now (its current state, or `screen`)."""
    shown = screen or session_screen(deps.catalogue, state_of(row), now)
    seen = None
    if isinstance(row, store.SessionRow):
        seen, row.live_row = row.live_row, None  # read before this write: stale after it
    written = await live.put(
        session, user_id=row.user_id, chat_id=chat_id, key=store.live_key(row.id),
        screen=shown.to_json(), lane=lane, now=now, message_id=message_id, adopt=adopt,
        new_message=new_message, seen=seen,
    )  # fmt: skip
    return () if written is None else (written,)


async def end_screen(
    session: AsyncSession, row: AnyRow, now: datetime, *, finished: bool
) -> Screen:
    """Return the summary of a session that just ended, with the first check-in question."""
    sets = await store.sets_of(session, row.id)
    return summary_screen(state_of(row), sets, row.started_at, now, finished=finished)


async def close(session: AsyncSession, row: AnyRow, status: str, now: datetime) -> bool:
    """End a session (stopped, abandoned) and schedule its follow-up; False if already ended."""
    if not await store.end_session(session, row.id, status=status, now=now):
        return False
    await store.clear_session_awaiting(session, row.user_id, row.id, row.position)
    due = followup_due(now if status == STOPPED else row.updated_at)
    await followups.schedule_followup(session, row.user_id, row.id, due, now)
    return True


async def log_set(
    session: AsyncSession,
    deps: BotData,
    row: Row,
    chat_id: int,
    now: datetime,
    *,
    actual: int,
    outcome: str,
    lane: Lane = Lane.REPLY,
    new_message: bool = False,
    adopt: int | None = None,
) -> Shown | None:
    """Log the set at the session's position and show what follows; None if it moved on.

    Runs in the caller's write transaction. `adopt` is the message tapped, taken up if the
    session lost track of its own.
    """
    plan = Plan.from_json(row.plan)
    step = plan.steps[row.position]
    nxt = after_set(plan, row.position, now)
    moved = await store.move(
        session, row.id, position=row.position, phase=row.phase,
        expected_due=row.timer_due_at, new_position=nxt.position, new_phase=nxt.phase,
        timer_due_at=nxt.timer_due_at, now=now, status=COMPLETED if nxt.finished else None,
        logged_at=now,
    )  # fmt: skip
    if not moved:
        return None
    await store.log_set(
        session, session_id=row.id, position=step.position, round_no=step.round_no,
        step_no=step.step_no, exercise_key=step.exercise, side=step.side, unit=step.unit,
        target=step.target, actual=actual, outcome=outcome, band=step.band, now=now,
    )  # fmt: skip
    row.last_logged_at = now
    if nxt.finished:
        await store.clear_session_awaiting(session, row.user_id, row.id, row.position)
        await followups.schedule_followup(session, row.user_id, row.id, followup_due(now), now)
        row.position = nxt.position  # the summary's Undo takes back the end from there
        screen = await end_screen(session, row, now, finished=True)
        return await show(session, deps, row, chat_id, now, screen=screen, lane=lane,
                               new_message=new_message)  # fmt: skip
    await _wait_for(session, row, Awaited(Awaiting.SESSION, row.id))
    row.position, row.phase, row.timer_due_at = nxt.position, nxt.phase, nxt.timer_due_at
    screen = session_screen(deps.catalogue, state_of(row), now)
    if lane is not Lane.REPLY:  # no tap, so no toast: the screen says what was logged
        logged = t.logged_line(step, outcome, actual)
        screen = Screen(f"{screen.text}\n\n{logged}", screen.keyboard)
    return await show(session, deps, row, chat_id, now, screen=screen, lane=lane,
                      new_message=new_message, adopt=adopt)  # fmt: skip


async def _wait_for(session: AsyncSession, row: Row, awaited: Awaited) -> None:
    """Store what typed input the session waits for now, unless the member's row says so."""
    encoded = awaited.encode()
    if row.awaiting != encoded:
        await repo.set_awaiting(session, row.user_id, encoded)
        row.awaiting = encoded


async def change_phase(
    session: AsyncSession,
    deps: BotData,
    row: Row,
    chat_id: int,
    phase: str,
    due: datetime | None,
    awaited: Awaited,
    adopt: int | None = None,
) -> Shown | None:
    """Move the session to a new phase at the same position; None if it had moved on."""
    now = deps.clock()
    if not await store.move(
        session, row.id, position=row.position, phase=row.phase, new_phase=phase,
        timer_due_at=due, now=now,
    ):  # fmt: skip
        return None
    await _wait_for(session, row, awaited)
    row.phase, row.timer_due_at = phase, due
    return await show(session, deps, row, chat_id, now, adopt=adopt)


async def stop(
    session: AsyncSession,
    deps: BotData,
    row: Row,
    chat_id: int,
    adopt: int | None = None,
) -> Shown | None:
    """End the session early and show the summary; None if it had already ended."""
    now = deps.clock()
    if not await close(session, row, STOPPED, now):
        return None
    screen = await end_screen(session, row, now, finished=False)
    return await show(session, deps, row, chat_id, now, screen=screen, adopt=adopt)


# ---------------------------------------------------------------- taps


def _logged(step: PlanStep, tap: Tap) -> tuple[int, str] | None:
    """Return (actual, outcome) for a tap that logs a set: Done, a number, or Skip."""
    if tap.action == "skip":
        return 0, SKIPPED
    if tap.action in ("done", "count"):
        actual = step.target if tap.action == "done" else tap.count or 0
        return actual, outcome_for(actual, step.target)
    return None


async def _apply(
    session: AsyncSession, deps: BotData, row: Row, chat: Chat, tap: Tap
) -> Shown | None:
    """Carry out a tap the guard table allowed; None if the session moved on meanwhile."""
    step, sid, now, at = step_of(row), row.id, deps.clock(), chat.chat_id
    in_session, adopt = Awaited(Awaiting.SESSION, sid), chat.message_id
    logged = _logged(step, tap)
    if logged is not None:
        actual, outcome = logged
        return await log_set(session, deps, row, at, now, actual=actual, outcome=outcome,
                             adopt=adopt)  # fmt: skip
    phase: str = STEP
    due: datetime | None = None
    awaited = in_session
    if tap.action == "fewer":
        phase, awaited = FEWER, Awaited(Awaiting.COUNT, sid, row.position)
    elif tap.action == "go":
        tick, timer = start_timer(WORK, work_segments(step), now)
        phase, due = timer.phase, tick.next_due
    elif tap.action not in ("back", "skip_rest"):
        return await stop(session, deps, row, at, adopt)
    return await change_phase(session, deps, row, at, phase, due, awaited, adopt)


async def take_back(session: AsyncSession, deps: BotData, row: Row, chat: Chat) -> Reply:
    """Undo the last set, or a Stop, within a minute; the session carries on from there."""
    now = deps.clock()
    await checkin_store.lock_user(session, row.user_id)  # a reopened session: the only one
    checked_in = await checkin_store.get_checkin(session, row.id) is not None
    kind = undo_kind(
        status=row.status, position=row.position, last_logged_at=row.last_logged_at,
        ended_at=row.ended_at, checked_in=checked_in, now=now,
    )  # fmt: skip
    if kind is None:
        return Reply(answer=t.UNDO_TOO_LATE)
    other = await store.active_session(session, row.user_id)
    if other is not None and other.id != row.id:
        return Reply(answer=t.UNDO_BUSY)
    back_to = row.position - 1 if kind == UNDO_SET else row.position
    if not await store.take_back(session, row.id, status=row.status, position=row.position,
                                 new_position=back_to, now=now):  # fmt: skip
        return Reply(answer=t.UNDONE_ALREADY)
    await followups.cancel_followups(session, row.id)
    await _wait_for(session, row, Awaited(Awaiting.SESSION, row.id))
    row.status, row.position, row.phase, row.timer_due_at = ACTIVE, back_to, STEP, None
    row.last_logged_at = None
    shown = await show(session, deps, row, chat.chat_id, now, adopt=chat.message_id)
    answer = t.undone_line(step_of(row)) if kind == UNDO_SET else t.UNDONE_STOP
    return Reply(answer=answer, live=shown)


async def on_tap(deps: BotData, chat: Chat, data: str) -> Reply:
    """Handle Done / Fewer / a number / Skip / Stop / Start timer / Skip rest / Back / Undo."""
    tap = parse_tap(data)
    if tap is None:
        return Reply(answer=t.BAD_BUTTON, alert=True)
    async with deps.db.write() as session:  # one transaction: read, check, change, show
        row = await store.session_snapshot(session, tap.session_id)
        refusal = refusal_for(_facts(row, chat.user_id), tap)
        if refusal is not None or row is None:
            return Reply(answer=REFUSALS[refusal or Refusal.UNKNOWN])
        if tap.action == "undo":
            return await take_back(session, deps, row, chat)
        step = step_of(row)  # the guard passed, so the session is active at a real step
        shown = await _apply(session, deps, row, chat, tap)
    if shown is None:  # another tap or process got there first
        return Reply(answer=t.STEP_DONE)
    logged = _logged(step, tap)
    answer = t.logged_line(step, logged[1], logged[0]) if logged is not None else None
    return Reply(answer=answer, live=shown)


def _facts(row: Row | None, user_id: int) -> SessionFacts | None:
    """Return what the guard table needs about a session, seen by this user."""
    if row is None:
        return None
    step = Plan.from_json(row.plan).step(row.position)  # None once the session has finished
    return SessionFacts(
        owner=row.user_id == user_id,
        status=row.status,
        position=row.position,
        phase=row.phase,
        timed=step is not None and step.timed,
    )


async def on_typed_count(deps: BotData, chat: Chat, awaited: Awaited, text: str) -> Reply:
    """Log a typed 'how many' after Fewer, or explain and ask again."""
    count = parse_count(text)
    if count is None:
        return Reply.text(t.BAD_COUNT.format(text=text.strip()[:20]))
    sid = awaited.session_id
    async with deps.db.write() as session:
        row = await store.session_snapshot(session, sid) if sid is not None else None
        current = row is not None and row.user_id == chat.user_id and row.status == store.ACTIVE
        if row is None or not current or row.position != awaited.position or row.phase != FEWER:
            return Reply.text(t.STEP_DONE)
        target = step_of(row).target
        if count >= target:  # more than the target is logged only once confirmed
            confirm = Button(
                t.LOG_MORE.format(count=count), Tap(row.id, row.position, "count", count).encode()
            )
            text = t.MORE_THAN_TARGET.format(count=count, target=target, top=target - 1)
            return Reply.text(text, [confirm])
        outcome = outcome_for(count, target)
        # The member typed below the step: the next screen goes below their message too.
        shown = await log_set(session, deps, row, chat.chat_id, deps.clock(), actual=count,
                              outcome=outcome, new_message=True)  # fmt: skip
    if shown is None:
        return Reply.text(t.STEP_DONE)
    return Reply(live=shown)
