"""Benchmark: a member's reply overtakes a queued reminder broadcast; what one tap costs.

Run (after installing the project; no internet, about 30 s):
    python -m bench.replies_during_broadcast

The real Application (handlers, delivery lanes, job queue) runs in front of the in-process fake
Telegram (bot.fake_telegram) with a SQLite file in a temp dir and a stopped ManualClock, so no
timer ticks run. It measures:

1. Reply latency: the wall time of a member's /help, processed to completion, with the bot idle
   (the baseline, measured in the same run because machines are noisy) and while 300 reminder
   nudges wait in the BROADCAST lane at the default 30 messages/s. It prints medians, maxima,
   the ratio, and how many broadcasts were still queued when each reply went out.
2. Calls per tap: Telegram sendMessage + edit* calls, and answerCallbackQuery calls, for every
   tap of a guided "upper" session with 2 rounds (Done, then Skip rest, until the summary).
3. Taps per second for one member tapping through sessions, with the rate limit at 1000/s (the
   bot's own speed) and at the default 30/s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import Bot, database_url, running_bot
from bench.updates import COMPLETE, GREEN, next_tap, onboard
from bot.coaching.catalogue import load_catalogue
from bot.coaching.screen import Screen
from bot.delivery import Lane
from bot.fake_telegram import FakeTelegram, FakeUser

CAT = load_catalogue()
SUGGESTED_2 = "✓ 2 rounds (suggested)"
BROADCASTS = 300
BROADCAST_CHAT_BASE = 1_000_000
NUDGE = Screen("⏰ Time for your warm-up! Tap /warmup when you are ready.")
REPLIES = 10
SPACING = 0.2  # seconds between two replies, and the head start of the broadcast
# 0.2 s is exactly 6 token intervals at 30/s, so every reply would land at the same phase of the
# lane pump (just after a broadcast took a token) and wait a whole interval. Each gap therefore
# adds a different fraction of an interval (golden-ratio steps) to sample every phase evenly.
PHASES = [(i * 0.618034) % 1.0 for i in range(REPLIES)]
STEADY_AFTER = 50  # taps; by then the limiter's one-second burst is spent
MAX_TAPS_PER_SESSION = 100


@asynccontextmanager
async def running(rate: float) -> AsyncIterator[Bot]:
    """Run the real Application against a fresh fake Telegram and SQLite file."""
    async with running_bot(database_url("sqlite", Path(tempfile.mkdtemp())), rate=rate) as bot:
        yield bot


def labels(user: FakeUser) -> list[str]:
    """Return the labels of the user's last keyboard, flattened."""
    return [label for row in user.buttons() for label in row]


def finished(user: FakeUser) -> bool:
    """Return True once the session summary is the bot's last message."""
    return COMPLETE in (user.last_message().text or "")


def ms(seconds: float) -> str:
    """Format seconds as milliseconds."""
    return f"{seconds * 1000:.1f}"


# ---------------------------------------------------------------- 1. reply latency


async def help_latencies(
    run: Bot, user: FakeUser, *, busy: bool = False
) -> tuple[list[float], list[int]]:
    """Time REPLIES /help replies; return their seconds and the broadcasts queued after each."""
    limiter = run.app.bot_data.delivery.limiter
    interval = 1.0 / run.app.bot_data.settings.telegram_messages_per_second
    took: list[float] = []
    queued: list[int] = []
    for phase in PHASES:
        sent = len(run.fake.sent_texts(user.chat_id))
        started = time.perf_counter()
        await user.send("/help")
        took.append(time.perf_counter() - started)
        queued.append(limiter.queued(Lane.BROADCAST))
        if len(run.fake.sent_texts(user.chat_id)) != sent + 1:
            raise RuntimeError("/help was not answered with exactly one message")
        await asyncio.sleep(SPACING + phase * interval)
    if busy and min(queued) == 0:
        raise RuntimeError("the broadcast drained before the replies: raise BROADCASTS")
    return took, queued


async def reply_latency(run: Bot) -> None:
    """Print /help latency idle and behind a queued broadcast, and the queue each reply beat."""
    delivery = run.app.bot_data.delivery
    user = run.fake.user(1, first_name="Sam")
    for _ in range(3):  # warm up imports, caches and the HTTP client
        await user.send("/help")
    await asyncio.sleep(1.0)  # let the limiter's burst refill
    idle, _ = await help_latencies(run, user)

    broadcast_started = time.perf_counter()
    tasks = [
        asyncio.create_task(delivery.send_in_lane(BROADCAST_CHAT_BASE + i, NUDGE, Lane.BROADCAST))
        for i in range(BROADCASTS)
    ]
    await asyncio.sleep(SPACING)  # the burst has gone out; the rest waits in the lane
    at_start = delivery.limiter.queued(Lane.BROADCAST)
    busy, queued = await help_latencies(run, user, busy=True)
    await asyncio.gather(*tasks)
    drained = time.perf_counter() - broadcast_started
    nudges = sum(
        1
        for call in run.fake.calls_to("sendMessage")
        if call.ok and int(call.params["chat_id"]) >= BROADCAST_CHAT_BASE
    )

    ratio_median = statistics.median(busy) / statistics.median(idle)
    print(f"1. /help reply latency, {REPLIES} replies about {SPACING} s apart (ms)")
    print(f"   {'':34} {'median':>8} {'max':>8}")
    print(f"   {'idle (baseline)':34} {ms(statistics.median(idle)):>8} {ms(max(idle)):>8}")
    label = f"{BROADCASTS} broadcasts queued at 30/s"
    print(f"   {label:34} {ms(statistics.median(busy)):>8} {ms(max(busy)):>8}")
    print(f"   {'ratio busy / idle':34} {ratio_median:>8.2f} {max(busy) / max(idle):>8.2f}")
    print(f"   broadcasts queued before the first reply: {at_start}")
    print(f"   broadcasts still queued as each reply went out: {', '.join(map(str, queued))}")
    print(
        f"   broadcast: {nudges} nudges sent in {drained:.1f} s ({nudges / drained:.1f}/s:"
        " a one-second burst, then the rate)"
    )


# ---------------------------------------------------------------- 2. calls per tap


@dataclass
class TapCost:
    """Telegram calls caused by one kind of action, over every time it happened."""

    taps: int = 0
    ops: list[int] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


def answers(fake: FakeTelegram) -> int:
    """Count answerCallbackQuery calls so far."""
    return len(fake.calls_to("answerCallbackQuery"))


async def costed(costs: dict[str, TapCost], run: Bot, user: FakeUser, action: str) -> None:
    """Tap a button (or send a command) and record the Telegram calls it caused."""
    ops, answered = run.fake.message_ops(user.chat_id), answers(run.fake)
    if action.startswith("/"):
        await user.send(action)
    else:
        await user.tap(action)
    cost = costs.setdefault(action, TapCost())
    cost.taps += 1
    cost.ops.append(run.fake.message_ops(user.chat_id) - ops)
    cost.answers.append(answers(run.fake) - answered)


def plain(label: str) -> str:
    """Drop a label's leading symbols (emoji are two columns wide and break the table)."""
    while label and not label[0].isalnum() and label[0] != "/" and " " in label:
        label = label.split(" ", 1)[1]
    return label


def spread(values: list[int]) -> str:
    """Format integers as one value or a min-max range."""
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"


async def calls_per_tap(run: Bot) -> None:
    """Print the Telegram calls each action of a whole 2-round upper session costs."""
    user = run.fake.user(2, first_name="Kim")
    await onboard(user, [])
    costs: dict[str, TapCost] = {}
    for action in ("/warmup", CAT.routine("upper").name, SUGGESTED_2, GREEN):
        await costed(costs, run, user, action)
    for _ in range(MAX_TAPS_PER_SESSION):
        if finished(user):
            break
        await costed(costs, run, user, next_tap(user))
    else:
        raise RuntimeError("the session did not reach its summary")

    print("2. Telegram calls per action, one 'upper' session, 2 rounds (no timer ticks)")
    print(f"   {'action':26} {'times':>5} {'send+edit':>10} {'answerCbQ':>10}")
    for action, cost in costs.items():
        name = plain(action)
        print(f"   {name:26} {cost.taps:>5} {spread(cost.ops):>10} {spread(cost.answers):>10}")
    taps = [c for a, c in costs.items() if not a.startswith("/")]
    n = sum(c.taps for c in taps)
    ops = sum(sum(c.ops) for c in taps)
    answered = sum(sum(c.answers) for c in taps)
    print(f"   {'all taps':26} {n:>5} {ops / n:>10.2f} {answered / n:>10.2f}   (mean per tap)")


# ---------------------------------------------------------------- 3. taps per second


async def start_session(user: FakeUser, routine: str) -> None:
    """Open /warmup and start a routine on the green band with 4 rounds."""
    await user.send("/warmup")
    await user.tap(CAT.routine(routine).name)
    await user.tap("4 rounds")
    await user.tap(GREEN)


async def tap_rate(rate: float, taps: int) -> tuple[list[float], int]:
    """Tap Done / Skip rest `taps` times; return the seconds of each tap and the message ops."""
    async with running(rate) as run:
        user = run.fake.user(3, first_name="Lee")
        await onboard(user, [])
        await asyncio.sleep(1.0)  # let the limiter's burst refill after onboarding
        took: list[float] = []
        ops = run.fake.message_ops(user.chat_id)
        while len(took) < taps:
            if not labels(user) or finished(user):
                await start_session(user, "superset")
            started = time.perf_counter()
            await user.tap(next_tap(user))
            took.append(time.perf_counter() - started)
        ops = run.fake.message_ops(user.chat_id) - ops
        if run.errors:
            raise RuntimeError(f"a handler raised: {run.errors[0]!r}")
    return took, ops


async def taps_per_second(taps: int) -> None:
    """Print taps per second at the bot's own speed and at the default rate limit."""
    print(f"3. One member tapping Done / Skip rest ({taps} taps, 'superset' x4, sessions restart)")
    steady = f"taps/s >{STEADY_AFTER}"
    print(f"   {'rate limit':20} {'taps/s':>7} {steady:>11} {'median ms':>10} {'send+edit':>10}")
    for rate in (1000.0, 30.0):
        took, ops = await tap_rate(rate, taps)
        overall = len(took) / sum(took)
        later = took[STEADY_AFTER:]
        label = f"{rate:g} messages/s"
        print(
            f"   {label:20} {overall:>7.1f} {len(later) / sum(later):>11.1f}"
            f" {ms(statistics.median(took)):>10} {ops:>10}"
        )
    print(f"   (send+edit includes the session restarts; taps/s >{STEADY_AFTER}: after the burst)")


async def main() -> None:
    """Run the three measurements and print a table for each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=200, help="taps for the taps/s loop")
    args = parser.parse_args()
    started = time.perf_counter()
    async with running(30.0) as run:
        await reply_latency(run)
        print()
        await calls_per_tap(run)
        if run.errors:
            raise RuntimeError(f"a handler raised: {run.errors[0]!r}")
    print()
    await taps_per_second(args.taps)
    print(f"\n(total {time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
