"""Memory and start-up with a big membership: the bot started in a process of its own.

The parent fills a database with N onboarded members (a reminder each, spread over the week);
a child process (`python -m bench.memory URL`) starts the real Application against it, runs
one reminder poll, the timer pass and the delivery catch-up, stops, and prints its start-up
seconds and peak resident memory as JSON.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.background import SEVEN, database_of_members
from bench.common import Figure, Report, database_url, running_bot
from bench.updates import Bench

ONE_WEEK = timedelta(days=7)


async def child(url: str) -> dict[str, float]:
    """Start the bot on `url`, let its start-up work run, stop; return the figures."""
    from bot.clock import ManualClock
    from bot.reminders import dispatch_due
    from bot.warmup_timers import advance_timers

    began = time.perf_counter()
    async with running_bot(url, clock=ManualClock(SEVEN)) as bot:
        started = time.perf_counter() - began
        deps = bot.app.bot_data
        await dispatch_due(deps, SEVEN)
        await advance_timers(deps, SEVEN)
        await deps.delivery.converge(startup=True)
        bot.check()
    return {"startup_seconds": started, "peak_mib": peak_kib() / 1024}


def peak_kib() -> int:
    """Return this process's peak resident memory in KiB.

    Linux keeps ru_maxrss across execve, so a child started by a big parent would report the
    parent's peak; VmHWM belongs to the new process's own address space.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def memory(report: Report, backend: str, folder: Path, members: int) -> None:
    """Fill a database, start the bot on it in a fresh process, report memory and start-up."""
    url = database_url(backend, folder)  # reminders over the coming week, none due at start
    await database_of_members(
        url, members, due_at=SEVEN + timedelta(minutes=1), apart=ONE_WEEK / members
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bench.memory", url],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    name = f"{members:,} members"
    report.add(
        Figure(name, backend, "peak memory of the bot", figures["peak_mib"], "MiB",
               target="≤ 150 MiB"),
        Figure(name, backend, "start-up (app ready)", figures["startup_seconds"], "s"),
    )  # fmt: skip


def benches(quick: bool) -> list[tuple[str, Bench]]:
    """Return the memory benchmark at the run's size."""
    members = 2_000 if quick else 100_000

    async def run(report: Report, backend: str, folder: Path) -> None:
        await memory(report, backend, folder, members)

    return [(f"memory {members}", run)]


if __name__ == "__main__":
    print(json.dumps(asyncio.run(child(sys.argv[1]))))
