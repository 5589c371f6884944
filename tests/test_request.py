"""The Bot API request layer: calls go as JSON bodies, files as multipart, errors as PTB's."""

from __future__ import annotations

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
