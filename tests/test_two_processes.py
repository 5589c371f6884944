"""Two bot processes over one database give the same result as one, tap for tap."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Update

from bot.clock import ManualClock
from bot.coaching import session_texts as t
from bot.coaching.session import build_plan
from bot.context import BandCoachApp
from bot.fake_telegram import FakeTelegram, FakeUser
from bot.warmup_timers import fire_due_timers
from storage.db import Database
from tests.conftest import HandlerErrors, running_app
from tests.flows import CAT, begin, current, logged


@pytest.fixture
async def second_app(
    database_url: str,
    fake: FakeTelegram,
    clock: ManualClock,
    app: BandCoachApp,
    handler_errors: HandlerErrors,
) -> AsyncIterator[BandCoachApp]:
    """Run a second Application on the same database; updates alternate between the two."""
    async with running_app(
        database_url, fake, clock, handler_errors, receive_updates=False
    ) as other:
        # Both processes' repeating jobs stay paused: the test fires their timers together.
        for application in (app, other):
            assert application.job_queue is not None
            application.job_queue.scheduler.pause()
        turns = itertools.cycle((app, other))

        async def deliver(data: dict[str, Any]) -> None:
            """Hand each update to the next process in turn, like two workers behind one bot."""
            target = next(turns)
            await target.process_update(Update.de_json(data, target.bot))

        fake.on_update = deliver
        yield other


async def fire_both(apps: tuple[BandCoachApp, BandCoachApp], clock: ManualClock, s: float) -> int:
    """Advance the clock and let both processes fire due timers at the same instant."""
    clock.advance(s)
    fired = await asyncio.gather(*(fire_due_timers(a.bot_data, clock()) for a in apps))
    return sum(fired)


async def test_alternating_processes_log_each_tap_once(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    second_app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
) -> None:
    rounds = CAT.routine("lower").rounds_allowed[0]
    await begin(user, "lower", str(rounds))
    plan = build_plan(CAT, "lower", rounds, "green")
    expected = []
    for step in plan.steps:
        assert f"step {step.step_no}/{step.steps_in_round}" in user.last_message().text
        if step.position == 3:
            await user.tap(t.FEWER_LABEL)
            await user.send("7")
            expected.append((step.exercise, step.side, step.target, 7, "fewer"))
        else:
            await user.tap(t.DONE_LABEL)
            expected.append((step.exercise, step.side, step.target, step.target, "done"))
        if step.rest_after and step.position < len(plan.steps) - 1:
            step_messages = len(fake.calls_to("sendMessage"))
            await fire_both((app, second_app), clock, step.rest_after)
            # Exactly one of the two processes moved on: one new step message, not two.
            assert len(fake.calls_to("sendMessage")) - step_messages <= 1
    row = await current(app_db, user.user_id)
    assert row.status == "completed"
    sets = await logged(app_db, row.id)
    assert [(s.exercise_key, s.side, s.target, s.actual, s.outcome) for s in sets] == expected
    assert "Warm-up complete!" in user.last_message().text


async def test_the_same_tap_on_both_processes_at_once_logs_one_set(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    second_app: BandCoachApp,
    app_db: Database,
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    step = user.last_message()
    done = user.button_data(t.DONE_LABEL)
    # The same Done arrives at both processes together (a retry or a double tap).
    await asyncio.gather(
        user.tap_data(done, message_id=step.message_id),
        user.tap_data(done, message_id=step.message_id),
    )
    row = await current(app_db, user.user_id)
    sets = await logged(app_db, row.id)
    assert [(s.position, s.outcome) for s in sets] == [(0, "done")]
    assert row.position == 1
