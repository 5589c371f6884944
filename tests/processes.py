"""`bandcoach run` as a subprocess against a fake Bot API: polling or webhook, restartable."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from bot.fake_telegram import FakeTelegram
from tests.conftest import FAKE_TOKEN

# Upper bounds that only stop a broken run from hanging; a healthy start takes about a second.
STARTUP_LIMIT = 60.0
REPLY_LIMIT = 30.0
WEBHOOK_SECRET = "test-webhook-secret-0123456789abcdef"
WEBHOOK_URL = "https://bandcoach.example.test/telegram/hook"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BotProcess:
    """`bandcoach run` as a subprocess, restarted after each kill; each run logs to its own file.

    With `webhook`, it serves Telegram's webhook on its own port of 127.0.0.1.
    """

    def __init__(
        self,
        fake: FakeTelegram,
        base_url: str,
        database_url: str,
        folder: Path,
        *,
        webhook: bool = False,
        env: dict[str, str] | None = None,
    ) -> None:
        """Prepare the environment every run of the bot gets."""
        self.fake, self.folder, self.webhook = fake, folder, webhook
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_", "LOG_", "PORT"))
        }
        self.env.update(
            TELEGRAM_BOT_TOKEN=FAKE_TOKEN,
            TELEGRAM_API_BASE_URL=base_url,
            DATABASE_URL=database_url,
            LOG_LEVEL="DEBUG",  # the token must stay out of even the most detailed log
        )
        self.port = free_port() if webhook else 0
        if webhook:
            self.env.update(
                WEBHOOK_URL=WEBHOOK_URL, WEBHOOK_SECRET=WEBHOOK_SECRET, PORT=str(self.port),
                WEBHOOK_LISTEN="127.0.0.1",
            )  # fmt: skip
        self.env.update(env or {})
        self.logs: list[Path] = []
        self.proc: asyncio.subprocess.Process | None = None
        self.up = asyncio.Event()

    @property
    def url(self) -> str:
        """Return this instance's own address (a webhook bot only)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def hook(self) -> str:
        """Return where this instance takes Telegram's updates (a webhook bot only)."""
        return self.url + "/telegram/hook"

    async def start(self, args: Sequence[str] = ()) -> None:
        """Start the bot and wait until it is ready: polling, or serving its health check."""
        commands = len(self.fake.calls_to("setMyCommands"))
        log_path = self.folder / f"bot-{self.port}-{len(self.logs):02d}.log"
        self.logs.append(log_path)
        run = ["run", "--webhook"] if self.webhook else ["run"]
        with log_path.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *run, *args, cwd=self.folder, env=self.env,
                stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        ready = asyncio.ensure_future(self._ready(commands))
        exited = asyncio.ensure_future(self.proc.wait())
        await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
        exited.cancel()
        if not ready.done():
            ready.cancel()
            pytest.fail(f"The bot exited at start-up:\n{log_path.read_text(errors='replace')}")
        ready.result()
        self.up.set()

    async def _ready(self, commands: int) -> None:
        """Wait until a new run published its commands and polls, or answers its health check."""
        if not self.webhook:
            await self.fake.wait_until(
                lambda: (
                    len(self.fake.calls_to("setMyCommands")) > commands
                    and self.fake.waiting_polls > 0
                ),
                timeout=STARTUP_LIMIT,
            )
            return
        async with httpx.AsyncClient() as client:
            async with asyncio.timeout(STARTUP_LIMIT):
                while True:
                    try:
                        if (await client.get(self.url + "/healthz")).status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)  # until the server listens

    async def kill(self) -> None:
        """SIGKILL the bot and wait until it is gone."""
        assert self.proc is not None
        self.up.clear()
        self.proc.kill()
        await asyncio.wait_for(self.proc.wait(), REPLY_LIMIT)

    def terminate(self) -> None:
        """Send SIGTERM without waiting."""
        assert self.proc is not None
        self.up.clear()
        self.proc.send_signal(signal.SIGTERM)

    async def stop(self) -> int:
        """SIGTERM the bot and return its exit status."""
        self.terminate()
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), REPLY_LIMIT)

    async def ensure_dead(self) -> None:
        """Kill the bot if it is still running (used in `finally`)."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    def output(self) -> str:
        """Return what every run of the bot printed."""
        return "\n".join(path.read_text(errors="replace") for path in self.logs)
