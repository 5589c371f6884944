"""Settings parsing and the CLI's handling of missing or bad configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config import ConfigError, Settings, load_settings, to_async_url

GOOD_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/x.db", "sqlite+aiosqlite:///data/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_urls_map_to_async_drivers(
    url: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert to_async_url(url) == expected


@pytest.mark.parametrize("url", ["mysql://x/y", "not a url"])
def test_unsupported_database_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        to_async_url(url)


def test_default_database_is_a_sqlite_file_under_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    url = Settings(_env_file=None).async_database_url()  # type: ignore[call-arg]
    assert url == "sqlite+aiosqlite:///data/bandcoach.sqlite3"
    assert (tmp_path / "data").is_dir()


def test_settings_come_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_USER_IDS", "1, 22 ,333")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")
    settings = load_settings(_env_file=None)
    assert settings.admin_user_ids == (1, 22, 333)
    assert settings.default_timezone == "Europe/Berlin"
    assert settings.log_level == "DEBUG"
    assert settings.telegram_api_base_url == "http://127.0.0.1:9/bot"


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={GOOD_TOKEN}\n")
    assert load_settings().require_token() == GOOD_TOKEN


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"DEFAULT_TIMEZONE": "Mars/Base"}, "DEFAULT_TIMEZONE"),
        ({"ADMIN_USER_IDS": "1,bob"}, "ADMIN_USER_IDS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"TELEGRAM_API_BASE_URL": "ftp://x"}, "TELEGRAM_API_BASE_URL"),
    ],
)
def test_bad_settings_name_the_variable(
    env: dict[str, str], field: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=f"^{field}: "):
        load_settings(_env_file=None)


@pytest.mark.parametrize("token", [None, "", "abc", "123:short", "12345:has spaces in it......."])
def test_missing_or_malformed_token(token: str | None) -> None:
    settings = Settings(telegram_bot_token=token, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"TELEGRAM_BOT_TOKEN.*@BotFather"):
        settings.require_token()


def _run_cli(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot` in a clean environment in tmp_path."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_run_without_a_valid_token_exits_2_with_one_line(tmp_path: Path, token: str | None) -> None:
    result = _run_cli(["run"], tmp_path, **({"TELEGRAM_BOT_TOKEN": token} if token else {}))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "TELEGRAM_BOT_TOKEN" in lines[0] and "@BotFather" in lines[0]
    assert "Traceback" not in result.stderr


def test_help_lists_every_subcommand(tmp_path: Path) -> None:
    result = _run_cli(["--help"], tmp_path)
    assert result.returncode == 0
    subcommands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in subcommands:
        assert name in result.stdout


def test_migrate_creates_the_default_database(tmp_path: Path) -> None:
    result = _run_cli(["migrate"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "is at revision" in result.stdout
    assert (tmp_path / "data" / "bandcoach.sqlite3").is_file()
