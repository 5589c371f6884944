"""The 7 am peak, in real time, against a fake Bot API that enforces Telegram's limits.

A crowd's reminders fall due at 07:00 while members are mid-session with live rest timers and
tap at a steady rate. The fake answers 429 with retry_after past about 30 messages a second
per bot or one a second per chat (short bursts pass), as Telegram does. The app's clock runs
with the wall clock from 07:00, and the bot's own jobs move the timers.

Reported: tap-to-reply p50/p99 (a tap processed to the end, its screen edited); timer lateness
p99 (a rest's end to the edit that shows the next step); the time until the last reminder
against the physical bound (every message of the run at 30 a second); 429s received; nudges
lost or duplicated.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from bench.background import SEVEN, copies_in_rest, members_due
from bench.common import Bot, Figure, Report, database_url, percentile, running_bot
from bench.updates import Bench, next_tap, onboard, start_superset
from bot.clock import ScaledClock
from bot.coaching.session import Plan, parse_phase
from bot.fake_telegram import ApiCall, FakeMessage, FakeUser
from bot.fake_telegram.flood import FloodLimits
from bot.reminders import JOB_NAME, dispatch_due
from storage.db import Database
from storage.models import WorkoutSession

CROWD_FIRST_ID = 1_000_000  # the members whose reminder is due; the others train
SPREAD = 20.0  # seconds over which the rests of the members in session end


async def spread_rests(db: Database, first: int, rng: random.Random) -> dict[int, datetime]:
    """Shift each copied session's rest by up to SPREAD seconds; return when each rest ends."""
    ends: dict[int, datetime] = {}
    async with db.write() as session:
        rows = (await session.execute(select(WorkoutSession))).scalars().all()
        for row in rows:
            sid, due, timer = row.id, row.timer_due_at, parse_phase(row.phase)
            if sid < first or due is None or timer is None:
                continue
            rest = Plan.from_json(row.plan).steps[row.position - 1].rest_after
            end = timer.started_at(due) + timedelta(seconds=rest)
            shift = timedelta(seconds=rng.uniform(0, SPREAD))
            await session.execute(
                update(WorkoutSession)
                .where(WorkoutSession.id == sid)
                .values(timer_due_at=due + shift)
            )
            ends[sid] = end + shift
    return ends


def restore_screens(bot: Bot, template: FakeUser, count: int) -> None:
    """Give each copied member the template's session message in their own chat."""
    shown = template.fake.last_keyboard_message(template.chat_id)
    for member in range(2, count + 2):
        markup = {
            "inline_keyboard": [
                [{**b, "callback_data": str(b["callback_data"]).replace("ws:1:", f"ws:{member}:")}
                 for b in row]
                for row in shown.inline_keyboard
            ]
        }  # fmt: skip
        copy = FakeMessage(member, shown.message_id, True, shown.date, text=shown.text,
                           reply_markup=markup)  # fmt: skip
        bot.fake.restore(member, [copy])
        bot.fake.user(member, first_name=f"m{member}")


async def peak(
    report: Report,
    backend: str,
    folder: Path,
    *,
    crowd: int,
    training: int,
    taps_per_second: float,
    tap_seconds: float,
) -> None:
    """Run the peak once and report its figures."""
    rng = random.Random(7)
    clock = ScaledClock(1.0, SEVEN - timedelta(minutes=1))
    async with running_bot(database_url(backend, folder), rate=30.0, clock=clock) as bot:
        deps = bot.app.bot_data
        assert bot.app.job_queue is not None
        for job in bot.app.job_queue.get_jobs_by_name(JOB_NAME):
            job.schedule_removal()  # the peak's own dispatcher stands in for the 07:00 tick
        template = bot.fake.user(1, first_name="m1")
        setup: list[float] = []
        await onboard(template, setup)
        await start_superset(template, setup)
        await bot.fake.user(1).tap(next_tap(template))  # Done: a 20 s rest
        await deps.delivery.settle()
        await copies_in_rest(deps.db, training - 1)
        restore_screens(bot, template, training - 1)
        await members_due(deps.db, crowd, first_id=CROWD_FIRST_ID, due_at=clock())
        rest_ends = await spread_rests(deps.db, 2, rng)
        bot.fake.flood_limits = FloodLimits()
        started, app_started = time.time(), clock()
        mark = len(bot.fake.calls)

        async def remind() -> None:
            while (await dispatch_due(deps, clock())).claimed:
                pass

        reminding = asyncio.create_task(remind())
        latencies: list[float] = []

        async def tap(member: FakeUser) -> None:
            message = member.fake.last_keyboard_message(member.chat_id)
            labels = [label for row in message.buttons for label in row]
            label = next_tap(member) if labels else None
            if label is None or label not in labels:
                return
            data = message.button_data(label)
            began = time.perf_counter()
            await member.tap_data(data, message.message_id)
            latencies.append(time.perf_counter() - began)

        taps: list[asyncio.Task[None]] = []
        # Even ids tap on; odd ids leave their rest to the timer, whose lateness is measured.
        tappers = [bot.fake.user(i, first_name=f"m{i}") for i in range(2, training + 1, 2)]
        rest_ends = {sid: end for sid, end in rest_ends.items() if sid % 2}
        for _ in range(int(taps_per_second * tap_seconds)):
            taps.append(asyncio.create_task(tap(rng.choice(tappers))))
            await asyncio.sleep(1 / taps_per_second)
        await asyncio.gather(*taps)
        await reminding
        last_end = max(rest_ends.values(), default=app_started)
        await asyncio.sleep(max(0.0, (last_end - clock()).total_seconds()) + 2.0)
        await deps.delivery.settle()
        bot.check()
        calls = bot.fake.calls[mark:]
    nudges = Counter(
        int(c.params["chat_id"]) for c in calls
        if c.ok and c.method == "sendMessage" and int(c.params["chat_id"]) >= CROWD_FIRST_ID
    )  # fmt: skip
    last_nudge = max((c.at for c in calls if c.ok and c.method == "sendMessage"
                      and int(c.params["chat_id"]) >= CROWD_FIRST_ID), default=started)  # fmt: skip
    messages = sum(1 for c in calls if c.ok and c.method in ("sendMessage", "editMessageText"))
    bound = messages / 30.0
    lateness = _lateness(calls, rest_ends, started, app_started)
    name = f"7 am peak {crowd:,}"
    report.add(
        Figure(name, backend, "tap-to-reply p50", percentile(latencies, 50) * 1000, "ms"),
        Figure(name, backend, "tap-to-reply p99", percentile(latencies, 99) * 1000, "ms",
               target="≤ 1,500 ms"),
        Figure(name, backend, "timer lateness p99", percentile(lateness or [0.0], 99), "s",
               target="≤ 1 s"),
        Figure(name, backend, "last reminder / physical bound", (last_nudge - started) / bound,
               "×", target="≤ 1.15×"),
        Figure(name, backend, "429s received", sum(1 for c in calls if c.status == 429), "",
               target="0"),
        Figure(name, backend, "reminders lost", crowd - len(nudges), "", target="0"),
        Figure(name, backend, "reminders duplicated", sum(n - 1 for n in nudges.values()), "",
               target="0"),
    )  # fmt: skip


def _lateness(
    calls: list[ApiCall], rest_ends: dict[int, datetime], started: float, app_started: datetime
) -> list[float]:
    """Return, per member whose rest ended, seconds from its end to the edit showing the step."""
    out: list[float] = []
    for sid, end in rest_ends.items():
        end_wall = started + (end - app_started).total_seconds()
        edits = [c for c in calls if c.ok and c.method == "editMessageText"
                 and int(c.params["chat_id"]) == sid
                 and not str(c.params["text"]).startswith("⏸ Rest")]  # fmt: skip
        if edits:
            out.append(max(0.0, edits[0].at - end_wall))
    return out


def benches(quick: bool) -> list[tuple[str, Bench]]:
    """Return the peak at the run's size."""
    crowd, training, rate, seconds = (100, 20, 5.0, 6.0) if quick else (2_000, 300, 20.0, 30.0)

    async def run(report: Report, backend: str, folder: Path) -> None:
        await peak(report, backend, folder, crowd=crowd, training=training,
                   taps_per_second=rate, tap_seconds=seconds)  # fmt: skip

    return [(f"7 am peak {crowd}", run)]
