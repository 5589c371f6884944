"""The timer engine: advance every due countdown and rest, and close idle sessions.

A repeating job calls advance_timers and hands the live messages it changed to delivery. Each
timer is claimed by a conditional update on the timer_due_at it was read with, so two processes
never advance one timer twice. No handler ever sleeps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import clock_speed
from bot.coaching.screen import LiveRef
from bot.coaching.session import (
    ABANDON_AFTER,
    DONE,
    STEP,
    WORK,
    Plan,
    Timer,
    countdown,
    is_stale,
    parse_phase,
    rest_segments,
    work_segments,
)
from bot.coaching.session_screens import session_screen
from bot.context import BotData
from bot.delivery import Lane
from bot.warmups import Shown, log_set, show, state_of
from storage import live_messages as live
from storage import reminders as followups
from storage import sessions as store

logger = logging.getLogger(__name__)

IDLE_SWEEP_EVERY = timedelta(minutes=1)
# Timers claimed and advanced per write transaction; a pass goes on until none is due. On
# SQLite the write lock is held some tens of milliseconds a page, so members' taps do not wait
# long behind a crowd of rests.
TIMER_PAGE = 250
PAGES_IN_FLIGHT = 2


@dataclass(frozen=True)
class _Next:
    """Where a due countdown goes: a later tick, or the step once its time is up."""

    phase: str
    timer_due_at: datetime | None
    lane: Lane


def _next(
    row: store.SessionRow | store.DueTimer, plan: Plan, deps: BotData, now: datetime
) -> _Next | None:
    """Return a due countdown's next phase; None if it needs the full path (a set to log, or
    a timer on a phase or position that has none)."""
    timer, due, step = parse_phase(row.phase), row.timer_due_at, plan.step(row.position)
    if timer is None or step is None or due is None:
        return None
    segments = (
        work_segments(step) if timer.kind == WORK
        else rest_segments(plan.steps[row.position - 1].rest_after)
    )  # fmt: skip
    tick = countdown(timer.started_at(due), segments, now)
    stale = is_stale(due, now, clock_speed(deps.clock))
    if tick.finished and timer.kind == WORK and not stale:
        return None
    # After downtime there is no replay of missed ticks: the step shows at once.
    if stale or tick.finished:
        return _Next(STEP, None, Lane.TIMER)
    return _Next(Timer(timer.kind, tick.next_offset or 0).phase, tick.next_due, Lane.TICK)


async def _advance(
    session: AsyncSession, deps: BotData, row: store.SessionRow, chat_id: int, now: datetime
) -> Shown:
    """Advance one due countdown in `session`: a tick, a rest's end, or a finished timed set."""
    due = row.timer_due_at
    assert due is not None
    plan = Plan.from_json(row.plan)
    step = plan.step(row.position)
    nxt = _next(row, plan, deps, now)
    if nxt is not None:
        if not await store.move(
            session, row.id, position=row.position, phase=row.phase, expected_due=due,
            new_phase=nxt.phase, timer_due_at=nxt.timer_due_at, now=now,
        ):  # fmt: skip
            return ()
        row.phase, row.timer_due_at = nxt.phase, nxt.timer_due_at
        return await show(session, deps, row, chat_id, now, lane=nxt.lane)
    if parse_phase(row.phase) is None or step is None:  # a timer on a phase without one: drop it
        await store.move(session, row.id, position=row.position, phase=row.phase,
                         expected_due=due, now=now)  # fmt: skip
        return ()
    return await log_set(session, deps, row, chat_id, now, actual=step.target,
                         outcome=DONE, lane=Lane.TIMER) or ()  # fmt: skip


async def _advance_alone(deps: BotData, session_id: int, chat_id: int, now: datetime) -> Shown:
    """Advance one countdown, read afresh, in a transaction of its own."""
    async with deps.db.write() as session:
        row = await store.session_snapshot(session, session_id, fresh=True)
        if row is None or row.timer_due_at is None or row.timer_due_at > now:
            return ()
        return await _advance(session, deps, row, chat_id, now)


async def _advance_claimed(
    session: AsyncSession, deps: BotData, due: Sequence[store.DueTimer], now: datetime
) -> Shown:
    """Advance claimed countdowns: ticks and rests' ends in one move and one screen write for
    all, timed sets one by one."""
    moves: list[tuple[store.DueTimer, _Next]] = []
    shown: list[LiveRef] = []
    for row in due:
        nxt = _next(row, Plan.from_json(row.plan), deps, now)
        if nxt is not None:
            moves.append((row, nxt))
            continue
        full = await store.session_snapshot(session, row.id)
        if full is not None:
            shown += await _advance(session, deps, full, row.chat_id, now)
    await store.move_timers(session, [
        store.TimerMove(row.id, row.position, row.phase, row.timer_due_at, nxt.phase,
                        nxt.timer_due_at)
        for row, nxt in moves
    ], now)  # fmt: skip
    puts = []
    for row, nxt in moves:
        moved = row._replace(phase=nxt.phase, timer_due_at=nxt.timer_due_at)
        screen = session_screen(deps.catalogue, state_of(moved), now)
        puts.append(live.Put(row.user_id, row.chat_id, store.live_key(row.id), screen.to_json(),
                             nxt.lane))  # fmt: skip
    return (*shown, *await live.put_many(session, puts, now))


async def _advance_page(
    deps: BotData, now: datetime, after: int, claimed: asyncio.Future[list[int]]
) -> tuple[list[int], Shown, list[BaseException]]:
    """Claim and advance a page of due countdowns after session id `after`, in one transaction.

    `claimed` gets the page's ids as soon as they are claimed (none if the claim failed), so
    the next page can start. Returns the ids, what to push and any failures. If the page
    fails, each countdown is advanced on its own, so one bad row does not hold up the rest.
    """
    due: list[store.DueTimer] = []
    try:
        async with deps.db.write() as session:
            due = await store.claim_due_timers(session, now, TIMER_PAGE, after=after)
            if not claimed.done():  # done only if the pass was cancelled meanwhile
                claimed.set_result([row.id for row in due])
            shown = await _advance_claimed(session, deps, due, now)
        return [row.id for row in due], shown, []
    except Exception as exc:
        if not due:  # nothing was claimed: the database itself failed
            raise
        logger.warning("A page of %d timers failed; advancing them one by one: %r", len(due), exc)
    finally:
        if not claimed.done():
            claimed.set_result([])
    results = await asyncio.gather(
        *(_advance_alone(deps, row.id, row.chat_id, now) for row in due), return_exceptions=True
    )
    shown = tuple(x for r in results if not isinstance(r, BaseException) for x in r)
    failures = [r for r in results if isinstance(r, BaseException)]
    return [row.id for row in due], shown, failures


async def _sweep_idle(deps: BotData, now: datetime) -> None:
    """Close sessions with no activity for ABANDON_AFTER, at most once a minute."""
    last = deps.idle_sweep_at
    if last is not None and now - last < IDLE_SWEEP_EVERY:
        return
    deps.idle_sweep_at = now
    async with deps.db.write() as session:
        await followups.schedule_idle_followups(session, now - ABANDON_AFTER, now)
        closed = await store.abandon_idle(session, now - ABANDON_AFTER, now)
    if closed:
        logger.info("Closed %d idle session(s) as abandoned", closed)


@dataclass(frozen=True)
class TimerRun:
    """What one pass of the timer engine did."""

    due: int
    shown: Shown  # live messages to push
    failures: tuple[BaseException, ...] = ()

    def raise_first(self) -> None:
        """Raise the first failure, so the job's (rate-limited) report covers it."""
        if self.failures:
            raise self.failures[0]


async def advance_timers(deps: BotData, now: datetime) -> TimerRun:
    """Advance every session whose timer is due at `now`, a page per transaction.

    There is no cap per tick: with thousands of live countdowns a capped pass would leave
    rests late, and past the stale cutoff they would be skipped as if the bot had been down.
    A page starts once the one before has claimed its ids, so on PostgreSQL one page's
    statements run on the database's core while the other's screens are drawn (on SQLite the
    write lock takes them in turn). A page that cannot be claimed (the database is away) ends
    the pass with that failure; the screens of the other pages are still returned, to be pushed
    at once.
    """
    pages: list[asyncio.Task[tuple[list[int], Shown, list[BaseException]]]] = []
    async with deps.timer_lock:
        await _sweep_idle(deps, now)
        async with deps.db.read() as session:  # most polls find nothing: no write transaction
            if not await store.any_due_timer(session, now):
                return TimerRun(0, ())
        after = 0  # the id the next page starts after
        try:
            while True:
                claimed: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
                pages.append(asyncio.create_task(_advance_page(deps, now, after, claimed)))
                ids = await claimed
                if len(ids) < TIMER_PAGE:
                    break
                after = ids[-1]
                if len(pages) >= PAGES_IN_FLIGHT:
                    await asyncio.wait({pages[-PAGES_IN_FLIGHT]})
        finally:  # pages already started end, even if the pass is cancelled
            results = await asyncio.gather(*pages, return_exceptions=True)
    count = 0
    shown: list[LiveRef] = []
    failures: list[BaseException] = []
    for result in results:
        if isinstance(result, BaseException):  # no page could be claimed
            failures.append(result)
            continue
        ids, page, failed = result
        count += len(ids)
        shown += page
        failures += failed
    return TimerRun(count, tuple(shown), tuple(failures))


async def fire_due_timers(deps: BotData, now: datetime) -> int:
    """Advance the due timers and bring their messages up to date; return how many were due."""
    run = await advance_timers(deps, now)
    await deps.delivery.push(run.shown)
    run.raise_first()
    return run.due
