"""Webhook mode end to end: `bandcoach run --webhook` subprocesses on 127.0.0.1, a fake Bot API
that posts updates to them like Telegram, and one PostgreSQL shared by two instances."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pgserver._commands import pg_ctl
from sqlalchemy import func, select

from bench.background import database_of_members
from bot.coaching import texts
from bot.fake_telegram import FakeBotApiServer, FakeTelegram
from bot.fake_telegram.webhook import SECRET_HEADER, WebhookPoster
from storage.db import Database
from storage.models import ReminderSlot, SessionSet, User, WorkoutSession
from tests.conftest import FAKE_TOKEN
from tests.flows import CAT, finish, onboard
from tests.processes import REPLY_LIMIT, WEBHOOK_SECRET, WEBHOOK_URL, BotProcess

pytestmark = pytest.mark.e2e

SHUTDOWN_BOUND = 10.0  # a platform sends SIGKILL 10 s after SIGTERM
MEMBERS_DUE = 200
FIRST_DUE = 50_000  # member ids of the crowd whose reminders are due
JSON_LOGS = {"LOG_FORMAT": "json"}
LEVEL = re.compile(r"^\S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def secrets_absent(output: str, *, outage: bool = False) -> None:
    """Fail if the bot's output holds the token or the webhook secret, or a traceback.

    An outage's first failure per kind is logged with its traceback, by design (bot.alerts).
    """
    assert FAKE_TOKEN.split(":", 1)[1] not in output
    assert WEBHOOK_SECRET not in output
    assert outage or "Traceback" not in output, output[-3000:]


def info_lines(output: str) -> list[str]:
    """Return the lines logged at INFO or above (text format)."""
    return [line for line in output.splitlines() if (m := LEVEL.match(line)) and m[1] != "DEBUG"]


async def post(url: str, body: bytes, secret: str | None) -> int:
    """POST a raw body to a webhook and return the status."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with httpx.AsyncClient() as client:
        return (await client.post(url, content=body, headers=headers)).status_code


async def health(bot: BotProcess) -> tuple[int, dict[str, Any]]:
    """Return the status and JSON of an instance's /healthz."""
    async with httpx.AsyncClient() as client:
        response = await client.get(bot.url + "/healthz", timeout=REPLY_LIMIT)
    return response.status_code, response.json()


async def test_a_webhook_instance_answers_telegram_refuses_strangers_and_stops_cleanly(
    tmp_path: Path, database_url: str
) -> None:
    fake = FakeTelegram(token=FAKE_TOKEN)
    async with FakeBotApiServer(fake) as server:
        bot = BotProcess(fake, server.base_url, database_url, tmp_path, webhook=True)
        poster = WebhookPoster([bot.hook], WEBHOOK_SECRET)
        try:
            await bot.start()
            [registered] = fake.calls_to("setWebhook")
            assert fake.webhook_url == WEBHOOK_URL
            assert registered.params["secret_token"] == WEBHOOK_SECRET
            fake.on_update = poster
            robin = fake.user(1001, first_name="Robin")
            await robin.send("/start")  # processed before the 200: the answer is already here
            assert "Hi Robin! I'm Band Coach" in robin.last_message().text
            await robin.tap("Ease low-back discomfort")
            assert "Step 2 of 4" in robin.last_message().text
            await robin.send("my private words 4711")  # typed text: never logged at INFO
            calls, updates = len(fake.calls), fake.updates[-1]
            forged = json.dumps({**updates, "update_id": updates["update_id"] + 100}).encode()
            for secret in (None, "", "wrong-" + WEBHOOK_SECRET[6:], WEBHOOK_SECRET + "x"):
                assert await post(bot.hook, forged, secret) == 403
            for body in (b"not json", b"[]", b'{"message": {}}', b'{"update_id": "7"}',
                         b'{"update_id": 7, "message": "hi"}', b"\xff\xfe"):  # fmt: skip
                assert await post(bot.hook, body, WEBHOOK_SECRET) == 400, body
            assert len(fake.calls) == calls, "a refused request reached the bot"
            status, report = await health(bot)
            assert status == 200 and report["status"] == report["database"] == "ok"
            assert report["delivery_backlog"] == 0 and report["last_update_at"] is not None

            gate = fake.hold("sendMessage")  # the answer to /help waits: the update is in flight
            asking = asyncio.create_task(robin.send("/help"))
            await fake.wait_until(lambda: gate.waiting > 0, timeout=REPLY_LIMIT)
            bot.terminate()
            stopped_at = time.monotonic()
            await _listening_stops(bot)  # the instance took SIGTERM with /help still in flight
            gate.opened.set()
            await asyncio.wait_for(asking, REPLY_LIMIT)
            assert poster.answers[-1] == (bot.hook, 200)
            assert robin.last_message().text == texts.help_text()
            assert bot.proc is not None
            returncode = await asyncio.wait_for(bot.proc.wait(), REPLY_LIMIT)
            assert time.monotonic() - stopped_at < SHUTDOWN_BOUND

            # Sent while the bot restarts: refused until it is back, then answered once.
            del fake.gates["sendmessage"]
            poster.answered.clear()
            asking = asyncio.create_task(robin.send("/help"))
            await asyncio.wait_for(poster.answered.wait(), REPLY_LIMIT)
            assert poster.answers[-1] == (bot.hook, 0)
            await bot.start()
            await asyncio.wait_for(asking, REPLY_LIMIT)
            assert robin.last_message().text == texts.help_text()
            assert [m.text for m in robin.messages()].count(texts.help_text()) == 2
            assert await bot.stop() == 0
        finally:
            await bot.ensure_dead()
            await poster.aclose()
    output = bot.output()
    assert returncode == 0, output[-3000:]
    secrets_absent(output)
    lines = info_lines(output)
    assert not [line for line in lines if "my private words" in line]
    handled = [line for line in lines if " bot.updates: update " in line]
    assert len(handled) == len(fake.updates), handled  # one line per update, and only those
    assert re.search(
        r"update \d+ member=[0-9a-f]{12} handler=onboarding\.start [\d.]+ ms ok", output
    )
    assert "member=1001" not in output and "Robin" not in "\n".join(handled)


async def _listening_stops(bot: BotProcess) -> None:
    """Wait until the instance no longer accepts connections (it began shutting down)."""
    async with httpx.AsyncClient() as client:
        async with asyncio.timeout(REPLY_LIMIT):
            while True:
                try:
                    await client.get(bot.url + "/healthz", timeout=1)
                except httpx.TransportError:
                    return
                await asyncio.sleep(0.05)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_health_check_fails_while_the_database_is_away_and_recovers(
    tmp_path: Path, database_url: str, pg_server: Any
) -> None:
    fake = FakeTelegram(token=FAKE_TOKEN)
    async with FakeBotApiServer(fake) as server:
        bot = BotProcess(fake, server.base_url, database_url, tmp_path, webhook=True)
        try:
            await bot.start()
            assert (await health(bot))[0] == 200
            pg_ctl(
                ["-w", "-m", "fast", "stop"], pgdata=pg_server.pgdata, user=pg_server.system_user
            )
            try:
                status, report = await health(bot)
                assert (status, report["database"]) == (503, "unreachable")
            finally:
                with pg_server._lock:
                    pg_server.ensure_postgres_running()
            async with asyncio.timeout(REPLY_LIMIT):  # the pool renews its connections
                while True:
                    if (await health(bot))[0] == 200:
                        break
                    await asyncio.sleep(0.1)
            assert await bot.stop() == 0
        finally:
            await bot.ensure_dead()
    secrets_absent(bot.output(), outage=True)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_instances_behave_like_one(tmp_path: Path, database_url: str) -> None:
    due_at = datetime.now(UTC) - timedelta(minutes=1)
    await database_of_members(database_url, MEMBERS_DUE, first_id=FIRST_DUE, due_at=due_at)
    fake = FakeTelegram(token=FAKE_TOKEN)
    async with FakeBotApiServer(fake) as server:
        bots = [
            BotProcess(fake, server.base_url, database_url, tmp_path, webhook=True, env=JSON_LOGS)
            for _ in range(2)
        ]
        poster = WebhookPoster([bot.hook for bot in bots], WEBHOOK_SECRET)
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            fake.on_update = poster
            sam = fake.user(2002, first_name="Sam")
            await onboard(sam)
            await sam.send("/warmup")
            await sam.tap(CAT.routine("upper").name)
            await sam.tap("✓ 2 rounds (suggested)")
            await sam.tap(sam.buttons()[0][0])
            await finish(sam)
            assert "Warm-up complete" in sam.last_message().text
            served = {url for url, status in poster.answers if status == 200}
            assert served == {bot.hook for bot in bots}, "the taps took turns between instances"
            due = range(FIRST_DUE, FIRST_DUE + MEMBERS_DUE)
            await fake.wait_until(
                lambda: all(fake.bot_messages(i) for i in due), timeout=REPLY_LIMIT * 2
            )
            for bot in bots:
                assert await bot.stop() == 0
        finally:
            for bot in bots:
                await bot.ensure_dead()
            await poster.aclose()
    assert [len(fake.bot_messages(i)) for i in due] == [1] * MEMBERS_DUE
    db = Database(database_url)
    try:
        async with db.read() as session:
            row = await session.scalar(
                select(WorkoutSession).join(User).where(User.id == sam.user_id)
            )
            assert row is not None and row.status == "completed"
            positions = (
                await session.scalars(
                    select(SessionSet.position).where(SessionSet.session_id == row.id)
                )
            ).all()
            slots = await session.scalar(
                select(func.count()).where(
                    ReminderSlot.user_id >= FIRST_DUE,
                    ReminderSlot.due_at >= due_at,  # today's
                )
            )
    finally:
        await db.dispose()
    assert sorted(positions) == list(range(len(row.plan["steps"])))  # each set logged once
    assert slots == MEMBERS_DUE
    for bot in bots:
        output = bot.output()
        secrets_absent(output)
        records = [json.loads(line) for line in output.splitlines() if line.strip()]
        updates = [r for r in records if r["logger"] == "bot.updates"]
        assert updates and all(r["outcome"] == "ok" and r["latency_ms"] >= 0 for r in updates)
