"""Benchmark: finding due reminders costs in proportion to what is due, not to how many users.

Run (after installing the project):
    python bench/due_reminders.py [--users 1000 10000 100000] [--postgres]

For each population size it fills users + reminder_settings with next slots spread over a week,
then times storage.reminders.due_users() when nothing is due and when 50 slots are due. Times are
reported as ratios against a baseline measured in the same run on the same database (a primary-key
lookup of one user), because the machines are noisy. It also prints the query plan, to show the
index on next_due_at is used.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, text

from storage import reminders as store
from storage.db import Database
from storage.migrate import upgrade
from storage.models import ReminderSettings, User

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
BATCH = 5_000
REPEATS = 30


async def fill(db: Database, users: int, due: int) -> None:
    """Insert `users` users; `due` of them are due at NOW, the rest spread over the next week."""
    rng = random.Random(users)
    for start in range(0, users, BATCH):
        ids = range(start + 1, min(start + BATCH, users) + 1)
        async with db.write() as session:
            await session.execute(
                insert(User),
                [{"id": i, "chat_id": i, "first_name": "u", "timezone": "UTC"} for i in ids],
            )
            await session.execute(
                insert(ReminderSettings),
                [
                    {
                        "user_id": i,
                        "next_due_at": NOW - timedelta(seconds=i)
                        if i <= due
                        else NOW + timedelta(seconds=rng.randint(60, 7 * 86_400)),
                    }
                    for i in ids
                ],
            )


async def timed(db: Database, query: str) -> float:
    """Return the median seconds of one due_users() call or one baseline lookup."""
    samples = []
    for _ in range(REPEATS):
        async with db.read() as session:
            started = time.perf_counter()
            if query == "due":
                await store.due_users(session, NOW, limit=500)
            else:
                await session.execute(select(User.first_name).where(User.id == 1))
            samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def plan(db: Database) -> str:
    """Return the database's query plan for the due query."""
    async with db.read() as session:
        if db.is_sqlite:
            rows = await session.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT user_id, next_due_at FROM reminder_settings "
                    "WHERE next_due_at <= :now ORDER BY next_due_at LIMIT 500"
                ),
                {"now": NOW.replace(tzinfo=None)},
            )
            return "; ".join(str(r[-1]) for r in rows)
        rows = await session.execute(
            text(
                "EXPLAIN SELECT user_id, next_due_at FROM reminder_settings "
                "WHERE next_due_at <= :now ORDER BY next_due_at LIMIT 500"
            ),
            {"now": NOW.replace(tzinfo=None)},
        )
        return "; ".join(str(r[0]).strip() for r in rows)


async def measure(url: str, users: int) -> tuple[float, float, float, str]:
    """Fill a fresh database and return (baseline, nothing due, 50 due, plan)."""
    db = Database(url)
    try:
        await upgrade(db)
        await fill(db, users, due=0)
        async with db.write() as session:
            await session.execute(text("ANALYZE"))
        baseline = await timed(db, "baseline")
        idle = await timed(db, "due")
        async with db.write() as session:
            await session.execute(
                ReminderSettings.__table__.update()
                .where(ReminderSettings.user_id <= 50)
                .values(next_due_at=NOW - timedelta(minutes=1))
            )
        busy = await timed(db, "due")
        return baseline, idle, busy, await plan(db)
    finally:
        await db.dispose()


async def main() -> None:
    """Run the benchmark for each population size and print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--postgres", action="store_true", help="also run on pgserver PostgreSQL")
    args = parser.parse_args()
    backends: list[tuple[str, object]] = [("sqlite", None)]
    server = None
    if args.postgres:
        import pgserver

        server = pgserver.get_server(tempfile.mkdtemp(), cleanup_mode="stop")
        backends.append(("postgres", server))
    print(f"{'backend':9} {'users':>8} {'idle/base':>10} {'50due/base':>11}  plan")
    try:
        for name, srv in backends:
            for users in args.users:
                if srv is None:
                    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
                else:
                    db_name = f"bench_{users}"
                    srv.psql(f"DROP DATABASE IF EXISTS {db_name}; CREATE DATABASE {db_name};")
                    url = srv.get_uri().replace("postgresql://", "postgresql+asyncpg://")
                    url = url.replace("/postgres?", f"/{db_name}?")
                base, idle, busy, qplan = await measure(url, users)
                print(f"{name:9} {users:>8} {idle / base:>10.2f} {busy / base:>11.2f}  {qplan}")
    finally:
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
