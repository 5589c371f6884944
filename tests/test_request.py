"""The Bot API request layer: calls go as JSON bodies, files as multipart, errors as PTB's."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bot.delivery.request import BotRequest
from tests.conftest import FAKE_TOKEN

MESSAGE = {"message_id": 7, "date": 0, "chat": {"id": 42, "type": "private"}, "text": "hi"}
ME = {"id": 1, "is_bot": True, "first_name": "Coach", "username": "coach_bot"}


def recording_bot(seen: list[httpx.Request], fail: Exception | None = None) -> Bot:
    """Return a PTB Bot over BotRequest whose requests are kept in `seen` and answered ok."""

    async def answer(request: httpx.Request) -> httpx.Response:
        await request.aread()
        seen.append(request)
        if fail is not None:
            raise fail
        result = ME if request.url.path.endswith("/getMe") else MESSAGE
        return httpx.Response(200, content=orjson.dumps({"ok": True, "result": result}))

    transport = httpx.MockTransport(answer)
    return Bot(FAKE_TOKEN, request=BotRequest(httpx_kwargs={"transport": transport}))


async def test_a_call_goes_as_one_json_body_to_the_method_url() -> None:
    seen: list[httpx.Request] = []
    async with recording_bot(seen) as bot:
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="d:1")]])
        sent = await bot.send_message(42, "Glute bridge ✓", reply_markup=keyboard)
        await bot.send_message(43, "again")
    assert sent.message_id == 7
    call = seen[-2]
    assert call.method == "POST"
    assert call.url.path == f"/bot{FAKE_TOKEN}/sendMessage"
    assert call.headers["content-type"] == "application/json"
    body = orjson.loads(call.content)
    assert body["chat_id"] == "42" and body["text"] == "Glute bridge ✓"
    markup = orjson.loads(body["reply_markup"])  # a JSON text, as a form field would carry it
    assert markup == {"inline_keyboard": [[{"text": "Done", "callback_data": "d:1"}]]}
    assert orjson.loads(seen[-1].content)["chat_id"] == "43"


async def test_a_file_still_goes_as_multipart() -> None:
    seen: list[httpx.Request] = []
    async with recording_bot(seen) as bot:
        await bot.send_document(42, b"date,reps\n", filename="history.csv", caption="Export")
    call = seen[-1]
    assert call.headers["content-type"].startswith("multipart/form-data")
    assert b'filename="history.csv"' in call.content and b"date,reps" in call.content


@pytest.mark.parametrize(
    ("fault", "raised"),
    [(httpx.ReadTimeout("slow"), TimedOut), (httpx.ConnectError("down"), NetworkError)],
)
async def test_transport_faults_become_ptbs_errors(
    fault: Exception, raised: type[Exception]
) -> None:
    seen: list[httpx.Request] = []
    bot = recording_bot(seen, fail=fault)  # not initialised: getMe would meet the fault too
    try:
        with pytest.raises(raised):
            await bot.send_message(42, "hi")
    finally:
        await bot.request.shutdown()
    assert orjson.loads(seen[-1].content)["chat_id"] == "42", "the call reached the transport"


async def test_a_proxy_from_the_environment_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer one proxied call with getMe's result, keeping its request line."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines.append(head.split(b"\r\n")[0])
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )  # fmt: skip
        await reader.readexactly(length)
        body = orjson.dumps({"ok": True, "result": ME})
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n")
        writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    # A host that does not resolve: only the proxy can answer for it.
    bot = Bot(FAKE_TOKEN, base_url="http://bandcoach.invalid/bot", request=BotRequest())
    try:
        async with bot:
            assert bot.bot.username == "coach_bot"
    finally:
        server.close()
        await server.wait_closed()
    assert lines == [f"POST http://bandcoach.invalid/bot{FAKE_TOKEN}/getMe HTTP/1.1".encode()]
