"""Two reminder dispatchers on one PostgreSQL: do they split a crowded slot, exactly once?

Each dispatcher is a bot process of its own (`python -m bench.dispatchers URL`) with its own
in-process fake Bot API. The parent fills the slot, starts the processes, waits until each has
its Application up, then lets them go at once; each sends what it claims and prints the chats
it reached. The same slot on a fresh database with one process is the baseline.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.background import SEVEN, database_of_members
from bench.common import Figure, Report, database_url, running_bot
from bench.updates import Bench

READY, GO = "ready", "go"


async def child(url: str) -> None:
    """Run one dispatcher: say ready, wait for go, send the slot, print the chats reached."""
    from bot.clock import ManualClock
    from bot.reminders import JOB_NAME, dispatch_due

    # The bot starts a minute early, so its start-up dispatch finds nothing due yet.
    async with running_bot(url, clock=ManualClock(SEVEN - timedelta(minutes=1))) as bot:
        assert bot.app.job_queue is not None
        for job in bot.app.job_queue.get_jobs_by_name(JOB_NAME):
            job.schedule_removal()
        print(READY, flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        while (await dispatch_due(bot.app.bot_data, SEVEN)).claimed:
            pass
        bot.check()
        chats = [int(c.params["chat_id"]) for c in bot.fake.calls_to("sendMessage") if c.ok]
    print(json.dumps(chats), flush=True)


async def dispatch_with(url: str, processes: int) -> tuple[float, Counter[int]]:
    """Run `processes` dispatchers on one database at once; return the seconds and the sends."""
    pipe = asyncio.subprocess.PIPE
    command = [sys.executable, "-m", "bench.dispatchers", url]
    root = Path(__file__).parent.parent
    children = [
        await asyncio.create_subprocess_exec(*command, stdin=pipe, stdout=pipe, cwd=root)
        for _ in range(processes)
    ]
    for process in children:
        assert process.stdout is not None
        line = (await process.stdout.readline()).decode().strip()
        if line != READY:
            raise RuntimeError(f"a dispatcher did not start: {line!r}")
    started = time.perf_counter()
    for process in children:
        assert process.stdin is not None
        process.stdin.write(f"{GO}\n".encode())
        await process.stdin.drain()
    outputs = [await process.communicate() for process in children]
    took = time.perf_counter() - started
    if any(process.returncode for process in children):
        raise RuntimeError("a dispatcher failed")
    sent: Counter[int] = Counter()
    for stdout, _ in outputs:
        sent.update(json.loads(stdout.decode().strip().splitlines()[-1]))
    return took, sent


async def two_dispatchers(report: Report, backend: str, folder: Path, members: int) -> None:
    """One dispatcher, then two on a fresh copy of the slot: speed-up, duplicates, misses."""
    if backend != "postgres":
        return  # one SQLite file has one writer at a time: several processes are for PostgreSQL
    one_url, two_url = database_url(backend, folder), database_url(backend, folder)
    await database_of_members(one_url, members)
    await database_of_members(two_url, members)
    alone, _ = await dispatch_with(one_url, 1)
    together, sent = await dispatch_with(two_url, 2)
    name = f"2 dispatchers {members:,}"
    report.add(
        Figure(name, backend, "speed-up over one", alone / together, "×", target="≥ 1.6×"),
        Figure(name, backend, "duplicates", sum(n - 1 for n in sent.values() if n > 1), "",
               target="0"),
        Figure(name, backend, "missed", members - len(sent), "", target="0"),
    )  # fmt: skip


def benches(quick: bool) -> list[tuple[str, Bench]]:
    """Return the two-dispatcher benchmark at the run's size."""
    members = 300 if quick else 3_000

    async def run(report: Report, backend: str, folder: Path) -> None:
        await two_dispatchers(report, backend, folder, members)

    return [(f"2 dispatchers {members}", run)]


if __name__ == "__main__":
    asyncio.run(child(sys.argv[1]))
