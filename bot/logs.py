"""Logging set-up that never lets a bot token reach a log line."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

# Any string shaped like a bot token (id:secret), wherever it appears: URLs, reprs, tracebacks.
TOKEN_RE = re.compile(r"\d{5,16}:[A-Za-z0-9_-]{30,}")
MASK = "<redacted-token>"
# Libraries that log request URLs (which contain the token) at INFO or DEBUG.
NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler", "aiosqlite", "asyncio", "alembic")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Return text with every known secret and anything shaped like a bot token masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return TOKEN_RE.sub(MASK, text)


class StartupNoise(logging.Filter):
    """Drop PTB's traceback for a failed start-up: the CLI reports it in one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Return False for PTB's 'Network Retry Loop (Bootstrap …)' failure records."""
        return not record.getMessage().startswith("Network Retry Loop (Bootstrap")


class RedactingFormatter(logging.Formatter):
    """A formatter that masks tokens in the message, its arguments and any traceback."""

    def __init__(self, fmt: str, secrets: tuple[str, ...] = ()) -> None:
        """Create the formatter with extra literal secrets to mask."""
        super().__init__(fmt)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        """Format the record, then mask secrets in the whole output."""
        return redact(super().format(record), self.secrets)


class JsonFormatter(RedactingFormatter):
    """One JSON object per line, for log platforms: time, level, logger, message, fields."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        """Create the formatter with extra literal secrets to mask."""
        super().__init__("%(message)s", secrets)

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one JSON line, secrets masked."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str), self.secrets)


def configure_logging(
    level: str, secrets: tuple[str, ...] = (), path: Path | None = None, fmt: str = "text"
) -> None:
    """Send logs to stderr (or append to `path`) redacted, and quiet chatty libraries.

    `fmt` is "text" (one readable line) or "json" (one object per line, for log platforms).
    """
    handler: logging.Handler = (
        logging.StreamHandler(sys.stderr)
        if path is None
        else logging.FileHandler(path, "a", encoding="utf-8")
    )
    handler.setFormatter(
        JsonFormatter(secrets)
        if fmt == "json"
        else RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    handler.addFilter(StartupNoise())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
