"""Start-up failures of `bandcoach`: one line naming the setting, exit 2, never the token."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from bot.fake_telegram import FakeBotApiServer, FakeTelegram
from tests.conftest import FAKE_TOKEN
from tests.processes import WEBHOOK_SECRET, WEBHOOK_URL, free_port

pytestmark = pytest.mark.e2e

OTHER_TOKEN = "987654321:AAOtherTokenTheFakeDoesNotKnow_abcdefgh"
LIMIT = 60.0


async def bandcoach(cwd: Path, *args: str, **env: str) -> tuple[int, str]:
    """Run `python -m bot ARGS` with these settings; return its exit code and stderr+stdout."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_"))
    }
    environment.update(env)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=LIMIT)
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")


def one_line(output: str, token: str = OTHER_TOKEN) -> str:
    """Assert the output is one 'bandcoach:' line without a traceback or the token."""
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("bandcoach: ") and "Traceback" not in output
    assert token not in output and token.split(":", 1)[1] not in output
    return lines[0]


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_a_token_telegram_rejects_is_one_line_without_the_token(
    tmp_path: Path, level: str
) -> None:
    fake = FakeTelegram(token=FAKE_TOKEN)
    async with FakeBotApiServer(fake) as server:
        code, output = await bandcoach(
            tmp_path, "run", TELEGRAM_BOT_TOKEN=OTHER_TOKEN,
            TELEGRAM_API_BASE_URL=server.base_url, LOG_LEVEL=level,
        )  # fmt: skip
    assert code == 2
    if level == "DEBUG":  # debug lines come first, then the same one line; never the token
        assert "Traceback" not in output and OTHER_TOKEN.split(":", 1)[1] not in output
        output = output.strip().splitlines()[-1]
    assert "rejected TELEGRAM_BOT_TOKEN" in one_line(output)


async def test_an_unreachable_bot_api_is_one_line(tmp_path: Path) -> None:
    code, output = await bandcoach(
        tmp_path, "run", TELEGRAM_BOT_TOKEN=OTHER_TOKEN,
        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{free_port()}/bot",
    )  # fmt: skip
    assert code == 2
    assert "cannot reach the Telegram Bot API" in one_line(output)


async def test_a_refused_postgresql_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://coach:s3cretpw@127.0.0.1:{free_port()}/bandcoach"
    code, output = await bandcoach(tmp_path, "migrate", DATABASE_URL=url)
    assert code == 2
    line = one_line(output)
    assert "cannot open the database" in line and "DATABASE_URL" in line
    assert "s3cretpw" not in output


@pytest.mark.parametrize("where", ["not-a-folder", "missing-folder"])
async def test_a_sqlite_path_without_its_folder_is_one_line_and_creates_nothing(
    tmp_path: Path, where: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "file").write_text("x")
    target = outside / "file" if where == "not-a-folder" else outside / "no" / "such"
    workdir = tmp_path / "work"
    workdir.mkdir()
    code, output = await bandcoach(workdir, "migrate", DATABASE_URL=f"sqlite:///{target}/x.db")
    assert code == 2
    assert one_line(output).startswith("bandcoach: DATABASE_URL:")
    assert not (outside / "no").exists()


async def test_the_readme_placeholder_token_says_what_a_token_looks_like(tmp_path: Path) -> None:
    code, output = await bandcoach(
        tmp_path, "run", TELEGRAM_BOT_TOKEN="123456:your-token-from-botfather"
    )
    assert code == 2
    line = one_line(output, token="123456:your-token-from-botfather")
    assert "like 123456789:AAF" in line and "@BotFather" in line


WEAK = "abc123-secret"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({}, "bandcoach: WEBHOOK_URL is not set: --webhook needs the public https URL"),
        ({"WEBHOOK_URL": WEBHOOK_URL}, "bandcoach: WEBHOOK_SECRET is not set: webhook mode needs"),
        (
            {"WEBHOOK_URL": WEBHOOK_URL, "WEBHOOK_SECRET": WEAK},
            "bandcoach: WEBHOOK_SECRET is too weak: use 24",
        ),
        (
            {"WEBHOOK_URL": WEBHOOK_URL, "WEBHOOK_SECRET": WEBHOOK_SECRET + " " + WEAK},
            "bandcoach: WEBHOOK_SECRET is too weak",
        ),
        (
            {"WEBHOOK_URL": "http://bot.example.test/hook", "WEBHOOK_SECRET": WEBHOOK_SECRET},
            "bandcoach: WEBHOOK_URL: must start with https://",
        ),
    ],
)
async def test_webhook_settings_that_cannot_work_are_one_line(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    code, output = await bandcoach(
        tmp_path, "run", "--webhook", TELEGRAM_BOT_TOKEN=FAKE_TOKEN, **env
    )
    assert code == 2
    assert one_line(output, FAKE_TOKEN).startswith(says), output
    assert WEAK not in output and WEBHOOK_SECRET not in output
