"""HTTP glue: route PTB's httpx traffic to a FakeTelegram."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
from telegram.request import HTTPXRequest

# Re-exported: request decoding lives in wire.py, but callers import it from here too.
from .wire import ParsedRequest, parse_http_request, parse_multipart

if TYPE_CHECKING:
    from .state import FakeTelegram

__all__ = [
    "ParsedRequest",
    "fake_request",
    "mock_transport",
    "parse_http_request",
    "parse_multipart",
]


def mock_transport(fake: FakeTelegram) -> httpx.MockTransport:
    """Return an httpx transport that answers every request from the fake (no network)."""

    async def handler(request: httpx.Request) -> httpx.Response:
        """Forward one httpx request to FakeTelegram.handle_http."""
        body = await request.aread()
        status, payload = await fake.handle_http(
            request.method, str(request.url), request.headers, body
        )
        return httpx.Response(status, content=payload, headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)


def fake_request(fake: FakeTelegram, **kwargs: Any) -> HTTPXRequest:
    """Return a PTB HTTPXRequest whose traffic goes to the fake instead of Telegram."""
    return HTTPXRequest(httpx_kwargs={"transport": mock_transport(fake)}, **kwargs)
