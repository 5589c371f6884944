"""A stateful fake Telegram Bot API for tests and the offline `bandcoach chat` console."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import (
    BAD_REQUEST_BUTTON_DATA_INVALID,
    BAD_REQUEST_CANT_EDIT,
    BAD_REQUEST_CHAT_NOT_FOUND,
    BAD_REQUEST_DELETE_NOT_FOUND,
    BAD_REQUEST_EDIT_NOT_FOUND,
    BAD_REQUEST_NOT_MODIFIED,
    BAD_REQUEST_QUERY_TOO_OLD,
    BAD_REQUEST_TEXT_EMPTY,
    BAD_REQUEST_TEXT_TOO_LONG,
    FORBIDDEN_BOT_BLOCKED,
    INTERNAL_SERVER_ERROR,
    NOT_FOUND,
    UNAUTHORIZED,
    FakeApiError,
    too_many_requests,
)
from .formatting import render_text
from .models import ApiCall, CallbackQueryRecord, FakeMessage, StoredFile
from .state import DEFAULT_BOT_USERNAME, DEFAULT_TOKEN, FakeTelegram
from .transport import fake_request, mock_transport, parse_http_request
from .user import FakeUser

if TYPE_CHECKING:
    from .server import FakeBotApiServer

__all__ = [
    "BAD_REQUEST_BUTTON_DATA_INVALID",
    "BAD_REQUEST_CANT_EDIT",
    "BAD_REQUEST_CHAT_NOT_FOUND",
    "BAD_REQUEST_DELETE_NOT_FOUND",
    "BAD_REQUEST_EDIT_NOT_FOUND",
    "BAD_REQUEST_NOT_MODIFIED",
    "BAD_REQUEST_QUERY_TOO_OLD",
    "BAD_REQUEST_TEXT_EMPTY",
    "BAD_REQUEST_TEXT_TOO_LONG",
    "DEFAULT_BOT_USERNAME",
    "DEFAULT_TOKEN",
    "FORBIDDEN_BOT_BLOCKED",
    "INTERNAL_SERVER_ERROR",
    "NOT_FOUND",
    "UNAUTHORIZED",
    "ApiCall",
    "CallbackQueryRecord",
    "FakeApiError",
    "FakeBotApiServer",
    "FakeMessage",
    "FakeTelegram",
    "FakeUser",
    "StoredFile",
    "fake_request",
    "mock_transport",
    "parse_http_request",
    "render_text",
    "too_many_requests",
]


def __getattr__(name: str) -> Any:
    """Import FakeBotApiServer lazily so tornado is only needed by the HTTP server."""
    if name == "FakeBotApiServer":
        from .server import FakeBotApiServer

        return FakeBotApiServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
