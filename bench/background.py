"""Background work at scale: one crowded reminder slot, and thousands of live countdowns.

Fan-out: N onboarded members whose reminder is due at 07:00 (Monday, UTC); the bot's own
dispatcher sends them with the rate limiter off, so the figure is what one process can
dispatch. sendMessage is answered at once by the transport (FakeTelegram.instant_sends): the
figure is this process's own work (the dispatcher, the database, PTB and httpx), not the
fake's, which a real Telegram does on its own servers. The baseline is a bare send_message loop
through the same PTB bot and the same instant answers. Every nudge is counted by chat:
duplicates and misses are reported, not assumed.

Timers: N members mid-rest, every rest ending at the same moment; one pass of the timer engine
must move each to its next step. Lateness is how long after the due moment the last member's
screen was written (the median of three fresh runs), and the pass must leave no timer behind
(none skipped as stale).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from bench.common import START, Bot, Figure, Report, database_url, migrated, running_bot
from bench.updates import Bench, next_tap, onboard, press, start_superset
from bot.clock import ManualClock
from bot.reminders import JOB_NAME, dispatch_due
from bot.warmup_timers import advance_timers
from storage.db import Database
from storage.models import LiveMessage, ReminderSettings, ReminderSlot, User, WorkoutSession

SEVEN = START.replace(hour=7)  # Monday 07:00 UTC: the slot everybody shares
BATCH = 5_000
LAST_WEEK = (7, 5, 3)  # days before the slot a member was nudged: Monday, Wednesday, Friday


async def members_due(
    db: Database,
    count: int,
    *,
    first_id: int = 1,
    due_at: datetime = SEVEN,
    apart: timedelta = timedelta(0),
) -> None:
    """Insert `count` members, onboarded a week ago and nudged three times since, whose
    reminders fall due from `due_at`, `apart` apart.

    A database in use has last week's slots, and PostgreSQL has statistics on its tables (its
    autovacuum takes them within a minute of changes). A first crowded slot into empty,
    never-analysed tables is not what a gym's Monday looks like: with no statistics the planner
    reads the whole day's slots for every batch of members.
    """
    for start in range(first_id, first_id + count, BATCH):
        ids = range(start, min(start + BATCH, first_id + count))
        async with db.write() as session:
            await session.execute(
                insert(User),
                [
                    {"id": i, "chat_id": i, "first_name": f"m{i}", "timezone": "UTC",
                     "goal": "back", "band": "green", "bands_owned": 2,
                     "onboarded_at": START - timedelta(days=7)}
                    for i in ids
                ],
            )  # fmt: skip
            await session.execute(
                insert(ReminderSettings),
                [{"user_id": i, "next_due_at": due_at + (i - first_id) * apart} for i in ids],
            )
            await session.execute(
                insert(ReminderSlot),
                [
                    {"user_id": i, "kind": "reminder", "due_at": due_at - timedelta(days=days),
                     "status": "sent", "attempts": 1, "claimed_at": due_at - timedelta(days=days),
                     "sent_at": due_at - timedelta(days=days)}
                    for i in ids for days in LAST_WEEK
                ],
            )  # fmt: skip
    if not db.is_sqlite:
        async with db.engine.connect() as connection:
            await connection.execute(text("ANALYZE"))


async def database_of_members(url: str, count: int, **due: Any) -> None:
    """Create a database's schema and `count` members in it (see members_due for `due`)."""
    await migrated(url)
    db = Database(url)
    try:
        await members_due(db, count, **due)
    finally:
        await db.dispose()


def columns(row: object, table: Any, *, leave_out: set[str]) -> dict[str, Any]:
    """Return a row's column values, but for some."""
    return {c.key: getattr(row, c.key) for c in table.columns if c.key not in leave_out}


async def copies_in_rest(db: Database, count: int) -> None:
    """Give `count` more members a copy of member 1's session and its message, resting alike."""
    async with db.read() as session:
        user = await session.get(User, 1)
        row = await session.scalar(select(WorkoutSession).where(WorkoutSession.user_id == 1))
        shown = await session.scalar(select(LiveMessage).where(LiveMessage.user_id == 1))
    assert user is not None and row is not None and shown is not None
    person = columns(user, User.__table__, leave_out={"id", "chat_id", "awaiting"})
    workout = columns(row, WorkoutSession.__table__, leave_out={"id", "user_id"})
    message = columns(shown, LiveMessage.__table__, leave_out={"id", "user_id", "chat_id", "key"})
    for start in range(2, count + 2, BATCH):
        ids = range(start, min(start + BATCH, count + 2))
        async with db.write() as session:
            await session.execute(insert(User), [{**person, "id": i, "chat_id": i} for i in ids])
            await session.execute(
                insert(WorkoutSession), [{**workout, "id": i, "user_id": i} for i in ids]
            )
            await session.execute(
                insert(LiveMessage),
                [{**message, "user_id": i, "chat_id": i, "key": f"ws{i}"} for i in ids],
            )


BARE_SENDS = 2_000


async def bare_sends(bot: Bot, count: int) -> float:
    """Return sendMessage calls per second, 16 at a time, through the same PTB bot and fake:
    the most a dispatcher could reach without any work of its own."""
    gate = asyncio.Semaphore(16)

    async def one(chat_id: int) -> None:
        async with gate:
            await bot.app.bot.send_message(chat_id, "Time for your warm-up!")

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(1, count + 1)))
    return count / (time.perf_counter() - started)


async def fan_out(report: Report, backend: str, folder: Path, members: int) -> None:
    """Dispatch one slot of `members` reminders; reminders/s, duplicates and misses."""
    clock = ManualClock(SEVEN - timedelta(minutes=1))  # nothing is due while the bot starts
    unlimited = 100_000.0  # the rate limiter off: what the dispatcher itself can do
    async with running_bot(database_url(backend, folder), rate=unlimited, clock=clock) as bot:
        deps = bot.app.bot_data
        assert bot.app.job_queue is not None  # only the measured dispatcher may send them
        for job in bot.app.job_queue.get_jobs_by_name(JOB_NAME):
            job.schedule_removal()
        await members_due(deps.db, members)
        nudges: Counter[int] = Counter()
        bot.fake.instant_sends = nudges  # Telegram's own work costs us nothing
        clock.set(SEVEN)
        started = time.perf_counter()
        while (await dispatch_due(deps, clock())).claimed:  # a tick takes 10,000 at most
            pass
        took = time.perf_counter() - started
        bot.check()
        nudges = Counter(nudges)  # the sends of the slot alone, before the baseline's
        bare = await bare_sends(bot, min(members, BARE_SENDS))
    duplicates = sum(n - 1 for n in nudges.values() if n > 1)
    missed = members - len(nudges)
    size = f"fan-out {members:,}"
    report.add(
        Figure(
            size,
            backend,
            "reminders/s",
            len(nudges) / took,
            "/s",
            baseline=bare,
            target="≥ 3,000 at 100k",
        ),
        Figure(size, backend, "duplicates", duplicates, "", target="0"),
        Figure(size, backend, "missed", missed, "", target="0"),
    )


async def rest_pass(backend: str, folder: Path, members: int) -> tuple[float, int, bool]:
    """`members` rests end at once: return the pass's seconds, the timers it advanced and
    whether any due timer was left behind."""
    clock = ManualClock(START)
    async with running_bot(database_url(backend, folder), clock=clock) as bot:
        deps = bot.app.bot_data
        took: list[float] = []
        user = bot.fake.user(1, first_name="m1")
        await onboard(user, took)
        await start_superset(user, took)
        await press(user, next_tap(user), took)  # Done: a 20 s rest starts
        await deps.delivery.settle()
        await copies_in_rest(deps.db, members - 1)
        clock.advance(25)  # every rest has ended
        started = time.perf_counter()
        run = await advance_timers(deps, clock())
        pass_seconds = time.perf_counter() - started
        async with deps.db.read() as session:
            left = await session.scalar(
                select(WorkoutSession.id).where(WorkoutSession.timer_due_at <= clock()).limit(1)
            )
        bot.check()
    return pass_seconds, run.due, left is not None


async def in_rest(report: Report, backend: str, folder: Path, members: int) -> None:
    """The timer pass over `members` rests that end at once, median of three fresh runs."""
    runs = [await rest_pass(backend, folder, members) for _ in range(3)]
    size = f"{members:,} timers"
    report.add(
        Figure(size, backend, "one pass (lateness of the last)",
               statistics.median(seconds for seconds, _, _ in runs), "s",
               target="≤ 1 s at 5,000"),
        Figure(size, backend, "timers advanced", min(due for _, due, _ in runs), "",
               target=f"{members}"),
        Figure(size, backend, "left behind", sum(left for _, _, left in runs), "", target="0"),
    )  # fmt: skip


def benches(quick: bool) -> list[tuple[str, Bench]]:
    """Return this module's benchmarks at the run's size."""
    crowds = (300,) if quick else (1_000, 10_000, 100_000)
    rests = (50,) if quick else (1_000, 5_000)
    found: list[tuple[str, Bench]] = []
    for crowd in crowds:

        async def one_slot(report: Report, backend: str, folder: Path, n: int = crowd) -> None:
            await fan_out(report, backend, folder, n)

        found.append((f"fan-out {crowd}", one_slot))
    for count in rests:

        async def timers(report: Report, backend: str, folder: Path, n: int = count) -> None:
            await in_rest(report, backend, folder, n)

        found.append((f"timers {count}", timers))
    return found
