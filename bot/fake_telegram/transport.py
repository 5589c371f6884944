"""HTTP glue: route PTB's httpx traffic to a FakeTelegram."""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import orjson
from telegram.request import HTTPXRequest

from bot.delivery.request import BotRequest

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
        if fake.instant_sends is not None and request.url.path.endswith("/sendMessage"):
            return _instant_send(fake.instant_sends, body)
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


_CHAT_ID = re.compile(rb"(?:^|&)chat_id=(-?[0-9]+)")


def _instant_send(sends: Counter[int], body: bytes) -> httpx.Response:
    """Count a sendMessage by chat and answer with a minimal message (see instant_sends)."""
    if body.startswith(b"{"):  # a JSON body
        chat = int(orjson.loads(body).get("chat_id", 0))
    else:
        found = _CHAT_ID.search(body)
        chat = int(found[1]) if found else 0
    sends[chat] += 1
    message = {"message_id": sends[chat], "date": 0, "chat": {"id": chat, "type": "private"}}
    body = orjson.dumps({"ok": True, "result": message})
    # A ready stream: httpx builds the response without encoding the body again.
    return httpx.Response(200, stream=httpx.ByteStream(body), headers=_JSON_ANSWER)


_JSON_ANSWER = {"content-type": "application/json"}


def fake_request(fake: FakeTelegram, *, stock: bool = False, **kwargs: Any) -> HTTPXRequest:
    """Return the bot's request layer (PTB's own HTTPXRequest if `stock`) whose traffic goes
    to the fake instead of Telegram."""
    kind = HTTPXRequest if stock else BotRequest
    return kind(httpx_kwargs={"transport": mock_transport(fake)}, **kwargs)
