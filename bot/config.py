"""Settings read from the environment and an optional `.env` file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.db import POOL_SIZE

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATA_DIR = Path("data")
TOKEN_PATTERN = re.compile(r"^\d{5,16}:[A-Za-z0-9_-]{30,}$")
MIN_SECRET = 24  # Telegram allows 1-256 characters; anything short could be guessed
WEBHOOK_SECRET_PATTERN = re.compile(rf"^[A-Za-z0-9_-]{{{MIN_SECRET},256}}$")


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one line meant for the operator."""


class Settings(BaseSettings):
    """Every knob of Band Coach, one environment variable each."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    database_url: str = ""
    telegram_api_base_url: str = DEFAULT_API_BASE_URL
    default_timezone: str = "UTC"
    admin_user_ids: Annotated[tuple[int, ...], NoDecode] = ()
    log_level: str = "INFO"
    reminder_grace_minutes: int = Field(default=60, ge=0, le=24 * 60)
    # Telegram allows about 30 messages a second per bot; a local Bot API server may allow more.
    telegram_messages_per_second: float = Field(default=30.0, ge=1, le=100_000)
    # How long an update waits for another process's write to a SQLite file before the member
    # is told the database is busy.
    sqlite_busy_timeout: float = Field(default=10.0, gt=0, le=120)
    # PostgreSQL connections each bot process keeps open (every process has its own).
    database_pool_size: int = Field(default=POOL_SIZE, ge=1, le=100)
    # Webhook mode (`bandcoach run --webhook`, or whenever WEBHOOK_URL is set).
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    port: int = Field(default=8080, ge=1, le=65535)
    webhook_listen: str = "0.0.0.0"  # all interfaces: the platform's router reaches us there
    log_format: str = "text"

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept a comma-separated string of Telegram user ids."""
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise ValueError("must be comma-separated numeric Telegram user ids")
            return tuple(int(p) for p in parts)
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """Reject time zone names that the IANA database does not know."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r} (try Europe/Berlin)") from exc
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        """Normalise and check the logging level name."""
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        """Accept text (one readable line) or json (one object per line, for log platforms)."""
        if value.lower() not in {"text", "json"}:
            raise ValueError("must be text or json")
        return value.lower()

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        """Require an https URL for Telegram's webhook (empty means polling)."""
        if not value:
            return None
        if not value.startswith("https://"):
            raise ValueError("must start with https:// (Telegram sends webhooks over TLS only)")
        return value

    def require_webhook_secret(self) -> str:
        """Return WEBHOOK_SECRET, or raise ConfigError when it is missing or weak."""
        value = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if not value:
            raise ConfigError(
                "WEBHOOK_SECRET is not set: webhook mode needs one, so only Telegram can post "
                "updates (e.g. `openssl rand -hex 32`)."
            )
        if not WEBHOOK_SECRET_PATTERN.match(value):
            raise ConfigError(
                f"WEBHOOK_SECRET is too weak: use {MIN_SECRET}-256 characters of letters, digits, "
                "_ or - (e.g. `openssl rand -hex 32`)."
            )
        return value

    def webhook_path(self) -> str:
        """Return the path Telegram posts to: WEBHOOK_URL's path, or /telegram."""
        from urllib.parse import urlsplit

        return urlsplit(self.webhook_url or "").path or "/telegram"

    @field_validator("telegram_api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        """Require an http(s) URL for the Bot API base."""
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    def require_token(self) -> str:
        """Return the bot token, or raise ConfigError when it is missing or malformed."""
        hint = "get one from @BotFather in Telegram (/newbot)"
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise ConfigError(f"TELEGRAM_BOT_TOKEN is not set: {hint}.")
        token = self.telegram_bot_token.get_secret_value().strip()
        if not TOKEN_PATTERN.match(token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token: a real one is the bot's id, "
                "a colon and a secret of 30 or more letters, digits, - or _ "
                f"(like 123456789:AAF…); {hint}."
            )
        return token

    def async_database_url(self) -> str:
        """Return the database URL mapped to an async driver, creating ./data for the default."""
        return to_async_url(self.database_url or default_sqlite_url())


def default_sqlite_url() -> str:
    """Return the default SQLite URL under ./data/, creating the folder."""
    DEFAULT_DATA_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR / 'bandcoach.sqlite3'}"


def to_async_url(url: str) -> str:
    """Map plain sqlite:// and postgresql:// URLs to the aiosqlite and asyncpg drivers."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"DATABASE_URL {url!r} is not a URL (sqlite:///path or postgresql://…).")
    base = scheme.split("+", 1)[0].lower()
    if base == "sqlite":
        path = rest.removeprefix("/")
        if path and path != ":memory:":
            _database_folder(Path(path).expanduser().parent)
        return f"sqlite+aiosqlite://{rest}"
    if base in {"postgres", "postgresql"}:
        return f"postgresql+asyncpg://{rest}"
    raise ConfigError(
        f"DATABASE_URL scheme {scheme!r} is not supported (use sqlite or postgresql)."
    )


def _database_folder(folder: Path) -> None:
    """Make sure a SQLite file's folder exists: created inside the working directory only."""
    if folder.is_dir():
        return
    if folder.exists():
        raise ConfigError(f"DATABASE_URL: {folder} is not a folder; point it at a file in one.")
    if folder.is_absolute() and not folder.resolve().is_relative_to(Path.cwd().resolve()):
        raise ConfigError(
            f"DATABASE_URL: the folder {folder} does not exist; create it first, "
            "or use a path inside the working directory."
        )
    folder.mkdir(parents=True, exist_ok=True)


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning validation failures into one-line ConfigErrors."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{field}: {message}") from None
