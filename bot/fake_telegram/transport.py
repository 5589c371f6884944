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
    "OFFLINE",
    "TIMED_OUT",
    "ParsedRequest",
    "fake_request",
    "mock_transport",
    "parse_http_request",
    "parse_multipart",
]


OFFLINE = "fake Telegram is offline (FakeTelegram.go_offline)"
TIMED_OUT = "fake Telegram timed out (FakeTelegram.timeout_next)"


def mock_transport(fake: FakeTelegram) -> httpx.MockTransport:
    """Return an httpx transport that answers every request from the fake (no network)."""

    async def handler(request: httpx.Request) -> httpx.Response:
        """Forward one httpx request to FakeTelegram.handle_http, honouring network faults."""
        if fake.offline:
            raise httpx.ConnectError(OFFLINE, request=request)
        body = await request.aread()
        url = str(request.url)
        timeout = fake.take_timeout(url, request.headers, body)
        if timeout is not None and not timeout.delivered:
            raise httpx.ReadTimeout(TIMED_OUT, request=request)
        status, payload = await fake.handle_http(request.method, url, request.headers, body)
        if fake.offline:  # the outage began while the call was in flight (e.g. a long poll)
            raise httpx.ReadError(OFFLINE, request=request)
        if timeout is not None:
            raise httpx.ReadTimeout(TIMED_OUT, request=request)
        return httpx.Response(status, content=payload, headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)


def fake_request(fake: FakeTelegram, **kwargs: Any) -> HTTPXRequest:
    """Return a PTB HTTPXRequest whose traffic goes to the fake instead of Telegram."""
    return HTTPXRequest(httpx_kwargs={"transport": mock_transport(fake)}, **kwargs)
