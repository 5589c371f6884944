"""End to end: a real `bandcoach run` long-polls a fake Bot API served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.fake_telegram import FakeBotApiServer, FakeTelegram
from tests.conftest import FAKE_TOKEN

pytestmark = pytest.mark.e2e

# Upper bounds that only stop a broken run from hanging; a healthy run takes a few seconds.
STARTUP_LIMIT = 60.0
REPLY_LIMIT = 30.0


async def test_start_round_trip_over_real_polling_and_clean_sigterm(
    tmp_path: Path, database_url: str
) -> None:
    fake = FakeTelegram(token=FAKE_TOKEN)
    async with FakeBotApiServer(fake) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
        env.update(
            TELEGRAM_BOT_TOKEN=FAKE_TOKEN,
            TELEGRAM_API_BASE_URL=server.base_url,
            DATABASE_URL=database_url,
            LOG_LEVEL="DEBUG",
        )
        log_path = tmp_path / "bot.log"
        with log_path.open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=tmp_path,
                env=env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
            try:
                await fake.wait_until(
                    lambda: bool(fake.calls_to("setMyCommands")) and fake.waiting_polls > 0,
                    timeout=STARTUP_LIMIT,
                )
                robin = fake.user(1001, first_name="Robin")
                await robin.send("/start")
                first = await fake.wait_for_bot_message(1001, timeout=REPLY_LIMIT)
                assert "Hi Robin! I'm Band Coach" in first.text
                await robin.tap("Ease low-back discomfort")
                await fake.wait_until(
                    lambda: "Step 2 of 4" in robin.last_message().text, timeout=REPLY_LIMIT
                )
                assert robin.last_message().message_id == first.message_id
                proc.send_signal(signal.SIGTERM)
                returncode = await asyncio.wait_for(proc.wait(), timeout=REPLY_LIMIT)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
    output = log_path.read_text(errors="replace")
    assert returncode == 0, output
    assert "Traceback" not in output, output
    assert FAKE_TOKEN not in output
    assert FAKE_TOKEN.split(":", 1)[1] not in output
    assert "getUpdates" in output  # DEBUG really logged the requests, with the token masked
