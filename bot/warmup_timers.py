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
from bot.context import BotData
from bot.delivery import Lane
from bot.warmups import Shown, log_set, show
from storage import reminders as followups
from storage import sessions as store
from storage.models import WorkoutSession

logger = logging.getLogger(__name__)

IDLE_SWEEP_EVERY = timedelta(minutes=1)
TIMER_PAGE = 500  # timers read at a time; a pass goes on until none is due
# Timers advanced per write transaction: fewer commits, yet on SQLite the write lock is held
# only some tens of milliseconds, so members' taps do not wait long behind a crowd of rests.
TIMER_BATCH = 100


async def _advance(
    session: AsyncSession, deps: BotData, row: WorkoutSession, chat_id: int, now: datetime
) -> Shown:
    """Advance one due countdown in `session`: a tick, a rest's end, or a finished timed set."""
    timer, due = parse_phase(row.phase), row.timer_due_at
    plan = Plan.from_json(row.plan)
    step = plan.step(row.position)
    assert due is not None
    if timer is None or step is None:  # a timer on a phase without one: drop it
        await store.move(session, row.id, position=row.position, phase=row.phase,
                         expected_due=due, now=now)  # fmt: skip
        return ()
    segments = (
        work_segments(step) if timer.kind == WORK
        else rest_segments(plan.steps[row.position - 1].rest_after)
    )  # fmt: skip
    tick = countdown(timer.started_at(due), segments, now)
    stale = is_stale(due, now, clock_speed(deps.clock))
    if tick.finished and timer.kind == WORK and not stale:
        return await log_set(session, deps, row, chat_id, now, actual=step.target,
                             outcome=DONE, lane=Lane.TIMER) or ()  # fmt: skip
    # After downtime there is no replay of missed ticks: the step shows at once.
    to_step = stale or tick.finished
    new_phase = STEP if to_step else Timer(timer.kind, tick.next_offset or 0).phase
    if not await store.move(
        session, row.id, position=row.position, phase=row.phase, expected_due=due,
        new_phase=new_phase, timer_due_at=None if to_step else tick.next_due, now=now,
    ):  # fmt: skip
        return ()
    row.phase, row.timer_due_at = new_phase, None if to_step else tick.next_due
    return await show(session, deps, row, chat_id, now, lane=Lane.TIMER if to_step else Lane.TICK)


async def _advance_alone(deps: BotData, session_id: int, chat_id: int, now: datetime) -> Shown:
    """Advance one countdown, read afresh, in a transaction of its own."""
    async with deps.db.write() as session:
        row = await store.session_snapshot(session, session_id)
        if row is None or row.timer_due_at is None or row.timer_due_at > now:
            return ()
        return await _advance(session, deps, row, chat_id, now)


async def _advance_batch(
    deps: BotData, due: Sequence[tuple[WorkoutSession, int]], now: datetime
) -> list[Shown | BaseException]:
    """Advance a batch of countdowns in one transaction; if one fails, each on its own."""
    try:
        async with deps.db.write() as session:
            return [await _advance(session, deps, row, chat, now) for row, chat in due]
    except Exception:  # the batch rolled back: one bad row must not hold up the rest
        return await asyncio.gather(
            *(_advance_alone(deps, row.id, chat, now) for row, chat in due),
            return_exceptions=True,
        )


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
    """Advance every session whose timer is due at `now`, page by page, TIMER_BATCH a commit.

    There is no cap per tick: with thousands of live countdowns a capped pass would leave
    rests late, and past the stale cutoff they would be skipped as if the bot had been down.
    """
    last = 0  # the id the next page starts after
    results: list[Shown | BaseException] = []
    async with deps.timer_lock:
        await _sweep_idle(deps, now)
        while True:
            async with deps.db.read() as session:
                due = await store.due_timers(session, now, TIMER_PAGE, after=last)
            batches = [due[i : i + TIMER_BATCH] for i in range(0, len(due), TIMER_BATCH)]
            # Side by side on PostgreSQL's connections; SQLite's writers queue in turn.
            for done in await asyncio.gather(*(_advance_batch(deps, b, now) for b in batches)):
                results += done
            if len(due) < TIMER_PAGE:
                break
            last = due[-1][0].id
    shown = tuple(i for r in results if not isinstance(r, BaseException) for i in r)
    return TimerRun(len(results), shown, tuple(r for r in results if isinstance(r, BaseException)))


async def fire_due_timers(deps: BotData, now: datetime) -> int:
    """Advance the due timers and bring their messages up to date; return how many were due."""
    run = await advance_timers(deps, now)
    await deps.delivery.push(run.shown)
    run.raise_first()
    return run.due
