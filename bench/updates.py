"""Per update: members onboarding, training and checking in through the full Application.

Each member sends /start and taps through onboarding, a whole 2-round superset (Done and Skip
rest until the summary) and the pain check-in, one update at a time; every update is timed to
the end of its processing. The baseline is a bare PTB bot (one CommandHandler that replies,
through PTB's stock request layer) behind the same in-process fake Telegram, in the same run.
Then many members tap at once: each finds their button first, then all tap in one instant.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from bench.common import FAKE_TOKEN, Figure, Report, counting, database_url, percentile, running_bot
from bot.coaching import session_texts as t
from bot.fake_telegram import FakeTelegram, FakeUser, fake_request

COMPLETE = "Warm-up complete"
GREEN = "✓ 🟢 Green (my band)"
MAX_TAPS = 200  # a session that does not end by then is a bug, not a slow bot


async def timed(took: list[float], action: Awaitable[object]) -> None:
    """Await one update to the end of its processing and record how long it took."""
    started = time.perf_counter()
    await action
    took.append(time.perf_counter() - started)


async def press(user: FakeUser, label: str, took: list[float]) -> None:
    """Tap a button of the last keyboard, timing only the update (not finding the button)."""
    message = user.fake.last_keyboard_message(user.chat_id)
    data = message.button_data(label)
    await timed(took, user.tap_data(data, message.message_id))


def next_tap(user: FakeUser) -> str:
    """Return the button that moves a session on: Skip rest during a rest, else Done."""
    labels = [label for row in user.buttons() for label in row]
    return t.SKIP_REST_LABEL if t.SKIP_REST_LABEL in labels else t.DONE_LABEL


async def onboard(user: FakeUser, took: list[float]) -> None:
    """Onboard with a green band, no reminders, UTC."""
    await timed(took, user.send("/start"))
    for label in ("Ease low-back discomfort", "Green", "✅ Save my bands", "No reminders", "UTC"):
        await press(user, label, took)


async def start_superset(user: FakeUser, took: list[float]) -> None:
    """Open /warmup and start the 2-round superset on green."""
    await timed(took, user.send("/warmup"))
    for label in ("Lower + upper superset", "✓ 2 rounds (suggested)", GREEN):
        await press(user, label, took)


async def train(user: FakeUser, took: list[float]) -> None:
    """Tap through the session to its summary, then answer the check-in: pain 0, same sides."""
    for _ in range(MAX_TAPS):
        if COMPLETE in (user.last_message().text or ""):
            break
        await press(user, next_tap(user), took)
    else:
        raise RuntimeError("the session did not reach its summary")
    await press(user, "0 · none", took)
    await press(user, "Same", took)


async def journey(user: FakeUser, took: list[float]) -> None:
    """One member's first day: onboarding, a whole session, the check-in."""
    await onboard(user, took)
    await start_superset(user, took)
    await train(user, took)


async def bare_bot(updates: int) -> list[float]:
    """Time a bare PTB bot answering /start through the same fake: the baseline."""

    async def reply(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("hi")

    fake = FakeTelegram(token=FAKE_TOKEN)
    app = (
        ApplicationBuilder()
        .token(FAKE_TOKEN)
        .request(fake_request(fake, stock=True))
        .get_updates_request(fake_request(fake, stock=True))
        .build()
    )
    app.add_handler(CommandHandler("start", reply))

    async def deliver(data: dict[str, object]) -> None:
        await app.process_update(Update.de_json(data, app.bot))

    fake.on_update = deliver
    took: list[float] = []
    async with app:
        user = fake.user(1)
        for _ in range(updates):
            await timed(took, user.send("/start"))
    return took


def rate(took: list[float]) -> float:
    """Return updates per second over the timed updates."""
    return len(took) / sum(took)


REPEATS = 3  # the one-at-a-time figures are medians of this many runs, each with its baseline


async def sequential(report: Report, backend: str, folder: Path, members: int) -> None:
    """Members one after another: updates/s, p50/p99 and SQL per update against the bare bot.

    The run and the bare bot's run alternate REPEATS times and each figure is the median, so a
    burst of noise on a shared machine moves one run, not the result.
    """
    runs: list[list[float]] = []
    bares: list[list[float]] = []
    statements = transactions = 0
    async with running_bot(database_url(backend, folder)) as bot:
        warm: list[float] = []
        await journey(bot.fake.user(10_000, first_name="Warm"), warm)  # imports, caches, pools
        for run in range(REPEATS):
            took: list[float] = []
            with counting(bot.app.bot_data.db.engine) as sql:
                for i in range(members):
                    await journey(bot.fake.user(run * members + i + 1, first_name=f"M{i}"), took)
            statements, transactions = statements + sql.statements, transactions + sql.transactions
            runs.append(took)
            bares.append(await bare_bot(len(took)))
        bot.check()
    ms, updates = 1000.0, sum(len(took) for took in runs)

    def median(figure: Callable[[list[float]], float], samples: list[list[float]]) -> float:
        return statistics.median(figure(took) for took in samples)

    def p50(took: list[float]) -> float:
        return percentile(took, 50) * ms

    def p99(took: list[float]) -> float:
        return percentile(took, 99) * ms

    report.add(
        Figure("one tap", backend, "updates/s, one member at a time", median(rate, runs), "/s",
               median(rate, bares), "≥ 0.10× bare PTB"),
        Figure("one tap", backend, "p50", median(p50, runs), "ms", median(p50, bares)),
        Figure("one tap", backend, "p99", median(p99, runs), "ms", median(p99, bares),
               "≤ 10 ms (SQLite)"),
        Figure("one tap", backend, "SQL statements per update", statements / updates, ""),
        Figure("one tap", backend, "transactions per update", transactions / updates, ""),
    )  # fmt: skip


async def concurrent(report: Report, backend: str, folder: Path, members: int, rounds: int) -> None:
    """Many members in a session tap at the same moment, round after round: p99 per tap."""
    async with running_bot(database_url(backend, folder)) as bot:
        users = [bot.fake.user(i + 1, first_name=f"M{i}") for i in range(members)]
        setup: list[float] = []
        for user in users:
            await onboard(user, setup)
            await start_superset(user, setup)
        took: list[float] = []
        # A first round, not timed, opens the database pool's connections and prepares the
        # statements on them, as a bot that has been running has them.
        warm_up: list[float] = []
        for timing in [warm_up] + [took] * rounds:
            for user in users:  # not timed: members who finished start a new session
                if COMPLETE in (user.last_message().text or ""):
                    await start_superset(user, [])
            # Each member finds their button first (their phone's work, not the bot's), then
            # all tap in the same instant.
            taps = [(user, user.fake.last_keyboard_message(user.chat_id)) for user in users]
            await asyncio.gather(*(
                timed(timing, user.tap_data(shown.button_data(next_tap(user)), shown.message_id))
                for user, shown in taps
            ))  # fmt: skip
        bot.check()
    report.add(
        Figure(f"{members} at once", backend, "tap p50", percentile(took, 50) * 1000, "ms"),
        Figure(f"{members} at once", backend, "tap p99", percentile(took, 99) * 1000, "ms",
               target="≤ 100 ms"),
        Figure(f"{members} at once", backend, "worst tap", max(took) * 1000, "ms"),
    )  # fmt: skip


Bench = Callable[[Report, str, Path], Awaitable[None]]


def benches(quick: bool) -> list[tuple[str, Bench]]:
    """Return this module's benchmarks at the run's size."""
    members, crowd, rounds = (2, 10, 3) if quick else (12, 50, 12)

    async def one(report: Report, backend: str, folder: Path) -> None:
        await sequential(report, backend, folder, members)

    async def many(report: Report, backend: str, folder: Path) -> None:
        await concurrent(report, backend, folder, crowd, rounds)

    return [("one tap", one), ("at once", many)]
