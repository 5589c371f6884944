"""No bot token ever reaches a log line."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import MASK, RedactingFormatter, configure_logging, redact

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Put back the root handlers and levels that configure_logging replaces."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    httpx_level = logging.getLogger("httpx").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(httpx_level)


def test_redact_masks_known_and_token_shaped_secrets() -> None:
    text = f"POST https://api.telegram.org/bot{TOKEN}/getMe and 987654321:{'x' * 35}"
    cleaned = redact(text, (TOKEN,))
    assert TOKEN not in cleaned and "x" * 35 not in cleaned
    assert cleaned.count(MASK) == 2


@pytest.mark.parametrize("level", ["DEBUG", "INFO"])
def test_token_is_masked_in_messages_args_and_tracebacks(
    level: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    configure_logging(level, secrets=(TOKEN,))
    handler = logging.getLogger().handlers[0]
    monkeypatch.setattr(handler, "stream", stream)
    log = logging.getLogger("telegram.test")
    log.warning("HTTP Request: POST https://x/bot%s/getUpdates", TOKEN)
    log.error(f"inline {TOKEN}")
    try:
        raise RuntimeError(f"connect failed for https://api.telegram.org/bot{TOKEN}/getMe")
    except RuntimeError:
        log.exception("boom")
    output = stream.getvalue()
    assert TOKEN not in output
    # Two messages plus the exception line; the traceback's source line shows `{TOKEN}` literally.
    assert output.count(MASK) == 3
    assert "Traceback" in output


def test_noisy_request_loggers_are_quieted() -> None:
    configure_logging("DEBUG")
    assert logging.getLogger("httpx").level >= logging.WARNING


def test_formatter_keeps_ordinary_text() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "user %s tapped", (42,), None)
    assert RedactingFormatter("%(message)s").format(record) == "user 42 tapped"
