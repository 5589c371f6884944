"""The fake Telegram Bot API, exercised through PTB's real Bot, HTTPXRequest and loopback HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import struct
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.fake_telegram import (
    BAD_REQUEST_BUTTON_DATA_INVALID,
    BAD_REQUEST_NOT_MODIFIED,
    DEFAULT_TOKEN,
    FakeBotApiServer,
    FakeTelegram,
    FakeUser,
    fake_request,
)
from bot.fake_telegram.flood import FloodLimits
from bot.fake_telegram.transport import parse_multipart

pytestmark = pytest.mark.asyncio

CHAT = 4242
NOW = 1_700_000_000.0


def png(width: int, height: int) -> bytes:
    """Return a tiny valid PNG of the given size (grey, uncompressed rows)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        """Encode one PNG chunk."""
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    """Return a one-button-per-row inline keyboard whose data is the lowercased label."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=label.lower())] for label in labels]
    )


def retry_seconds(error: RetryAfter) -> float:
    """Return RetryAfter.retry_after in seconds whatever PTB's int/timedelta setting."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


@pytest.fixture
def fake() -> FakeTelegram:
    """Return a fresh fake with a frozen clock."""
    return FakeTelegram(clock=lambda: NOW)


@pytest.fixture
def user(fake: FakeTelegram) -> FakeUser:
    """Return a user with an open private chat."""
    return fake.user(CHAT, first_name="Alex")


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """Yield a real, initialised PTB Bot whose HTTPX traffic goes to the fake."""
    instance = Bot(
        DEFAULT_TOKEN, request=fake_request(fake), get_updates_request=fake_request(fake)
    )
    await instance.initialize()
    yield instance
    await instance.shutdown()


# --------------------------------------------------------------------------- PTB via MockTransport


async def test_initialize_calls_get_me(bot: Bot, fake: FakeTelegram) -> None:
    """Bot.initialize() fetches the fake bot via getMe."""
    assert bot.username == "band_coach_test_bot"
    assert bot.id == 123456789
    assert fake.calls[0].method == "getMe" and fake.calls[0].status == 200


async def test_send_and_edit_round_trip_through_ptb(bot: Bot, fake: FakeTelegram) -> None:
    """Messages and edits round-trip through PTB, including not-modified errors."""
    sent = await bot.send_message(CHAT, "Pick one", reply_markup=keyboard("Yes", "No"))
    assert isinstance(sent, Message) and sent.message_id == 1
    assert sent.date == dtm.datetime.fromtimestamp(NOW, dtm.UTC)
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.reply_markup == keyboard("Yes", "No")
    call = fake.calls_to("sendmessage")[0]
    assert call.params["chat_id"] == CHAT  # form field "4242" normalised to int
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"

    edited = await bot.edit_message_text("Done", chat_id=CHAT, message_id=1)
    assert edited.text == "Done" and edited.edit_date is not None
    assert edited.reply_markup is None  # no reply_markup => keyboard removed
    msg = fake.last_bot_message(CHAT)
    assert (msg.text, msg.edits, msg.reply_markup) == ("Done", ["Pick one"], None)

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Done", chat_id=CHAT, message_id=1)
    assert fake.calls[-1].response["description"] == BAD_REQUEST_NOT_MODIFIED
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=CHAT, message_id=99)

    changed = await bot.edit_message_reply_markup(CHAT, 1, reply_markup=keyboard("Again"))
    assert isinstance(changed, Message) and changed.reply_markup == keyboard("Again")
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(CHAT, 1, reply_markup=keyboard("Again"))


async def test_user_messages_cannot_be_edited_but_can_be_deleted(
    bot: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    """The bot may delete but not edit what the user wrote."""
    await user.send("hello")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("hacked", chat_id=CHAT, message_id=1)
    assert await bot.delete_message(CHAT, 1) is True
    assert fake.chat(CHAT) == [] and fake.history(CHAT)[0].deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(CHAT, 1)


async def test_photo_and_document_are_uploaded_as_multipart(bot: Bot, fake: FakeTelegram) -> None:
    """PTB's multipart uploads are decoded byte for byte."""
    image = png(640, 480)
    photo = await bot.send_photo(CHAT, photo=image, caption="Your week 📈")
    assert [(p.width, p.height) for p in photo.photo] == [(320, 240), (640, 480)]
    assert photo.caption == "Your week 📈"
    stored = fake.last_bot_message(CHAT)
    assert (stored.kind, stored.file_bytes, stored.text) == ("photo", image, "Your week 📈")

    again = await bot.send_photo(CHAT, photo=photo.photo[-1].file_id)  # re-send by file_id
    assert again.photo[-1].file_unique_id == photo.photo[-1].file_unique_id

    doc = await bot.send_document(CHAT, document=b"a,b\n1,2\n", filename="x.csv")
    assert doc.document is not None
    assert (doc.document.file_name, doc.document.mime_type) == ("x.csv", "text/csv")
    assert doc.document.file_size == 8
    assert fake.last_bot_message(CHAT).file_bytes == b"a,b\n1,2\n"

    unicode_doc = await bot.send_document(CHAT, document=b"\r\n\x00\xff", filename="отчёт.txt")
    assert unicode_doc.document is not None and unicode_doc.document.file_name == "отчёт.txt"
    assert fake.last_bot_message(CHAT).file_bytes == b"\r\n\x00\xff"

    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(CHAT, photo=b"definitely not an image")
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(CHAT, photo="no-such-file-id")


async def test_commands_round_trip(bot: Bot, fake: FakeTelegram) -> None:
    """setMyCommands / getMyCommands / deleteMyCommands behave like Telegram."""
    commands = [BotCommand("start", "Start"), BotCommand("help", "Help")]
    assert await bot.set_my_commands(commands) is True
    assert tuple(await bot.get_my_commands()) == tuple(commands)
    assert fake.my_commands() == [c.to_dict() for c in commands]
    assert await bot.get_my_commands(language_code="de") == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("/start", "Leading slash")])
    assert await bot.delete_my_commands() is True
    assert fake.my_commands() == []


async def test_misc_methods(bot: Bot, fake: FakeTelegram) -> None:
    """Chat actions, webhook bookkeeping, close and logOut work."""
    assert await bot.send_chat_action(CHAT, "typing") is True
    assert fake.chat_actions == [(CHAT, "typing")]
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(CHAT, "dancing")
    assert await bot.set_webhook("https://example.invalid/hook") is True
    assert (await bot.get_webhook_info()).url == "https://example.invalid/hook"
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook() is True
    assert await bot.get_updates() == ()
    assert await bot.close() is True and await bot.log_out() is True


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_errors_surface_as_ptb_exceptions(bot: Bot, fake: FakeTelegram) -> None:
    """Injected 403/429/500/400 errors map to the right PTB exceptions."""
    fake.block_user(CHAT)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(CHAT, "hi")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(CHAT, "typing")
    fake.unblock_user(CHAT)

    fake.flood("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(CHAT, "hi")
    assert retry_seconds(flood.value) == 7
    assert fake.calls[-1].response["parameters"] == {"retry_after": 7}

    fake.server_error("sendMessage", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError) as server:
            await bot.send_message(CHAT, "hi")
        assert type(server.value) is NetworkError  # not BadRequest (its subclass)
        assert "Internal Server Error" in str(server.value)

    fake.fail_next("*", code=400, description="Bad Request: custom", chat_id=CHAT + 1)
    await bot.send_message(CHAT, "other chats are unaffected")
    with pytest.raises(BadRequest, match=r"(?i)custom"):
        await bot.send_message(CHAT + 1, "hi")
    assert [c.status for c in fake.calls_to("sendMessage")] == [403, 429, 500, 500, 200, 400]
    assert len(fake.bot_messages(CHAT)) == 1


async def test_button_data_and_text_limits_are_enforced(bot: Bot, fake: FakeTelegram) -> None:
    """callback_data, text and caption limits are enforced like Telegram."""
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])
    with pytest.raises(BadRequest) as error:
        await bot.send_message(CHAT, "hi", reply_markup=too_long)
    # PTB strips "Bad Request: " and str.capitalize()s the rest of the description
    assert error.value.message == "Button_data_invalid"
    assert fake.calls[-1].response["description"] == BAD_REQUEST_BUTTON_DATA_INVALID
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 32)]])
    await bot.send_message(CHAT, "hi", reply_markup=ok)  # exactly 64 bytes is fine
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.edit_message_reply_markup(CHAT, 1, reply_markup=too_long)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(CHAT, "x" * 4097)
    await bot.send_message(CHAT, "😀" * 2048)  # 4096 UTF-16 units
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(CHAT, "   ")
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(CHAT, photo=png(2, 2), caption="x" * 1025)


async def test_parse_modes_are_validated_like_telegram(bot: Bot, fake: FakeTelegram) -> None:
    """HTML / MarkdownV2 / Markdown are validated and rendered to plain text."""
    msg = await bot.send_message(CHAT, "<b>Hi</b> &amp; <i>bye</i>", parse_mode="HTML")
    assert msg.text == "Hi & bye"
    assert fake.last_bot_message(CHAT).raw_text == "<b>Hi</b> &amp; <i>bye</i>"
    with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "br"'):
        await bot.send_message(CHAT, "line<br>line", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "band"'):
        await bot.send_message(CHAT, "Hi <Band>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Can't find end tag"):
        await bot.send_message(CHAT, "<b>open", parse_mode="HTML")
    v2 = await bot.send_message(CHAT, r"*Done* in 5\.5 min \(nice\)", parse_mode="MarkdownV2")
    assert v2.text == "Done in 5.5 min (nice)"
    with pytest.raises(BadRequest, match=r"(?i)Character '.' is reserved"):
        await bot.send_message(CHAT, "Done in 5.5 min", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match=r"(?i)Can't find end of the entity"):
        await bot.send_message(CHAT, "user_name", parse_mode="Markdown")
    assert (await bot.send_message(CHAT, "a < b", parse_mode="HTML")).text == "a < b"


async def test_wrong_token_raises_invalid_token(fake: FakeTelegram) -> None:
    """A wrong token is 401 (InvalidToken); an unknown method is 404."""
    wrong = Bot("987:WrongToken", request=fake_request(fake))
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    await wrong.shutdown()
    assert fake.calls[-1].status == 401
    status, body = await fake.handle("frobnicate", {})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, body = await fake.handle("SENDMESSAGE", {"chat_id": "7", "text": "case-insensitive"})
    assert status == 200 and body["result"]["chat"]["id"] == 7


async def test_replies_captions_and_strict_chats(bot: Bot, fake: FakeTelegram) -> None:
    """Replies, caption edits and strict_chats behave like Telegram."""
    first = await bot.send_message(CHAT, "first")
    reply = await bot.send_message(CHAT, "second", reply_to_message_id=first.message_id)
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "first"
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(CHAT, "third", reply_to_message_id=99)
    photo = await bot.send_photo(CHAT, photo=png(2, 2), caption="old")
    edited = await bot.edit_message_caption(CHAT, photo.message_id, caption="new")
    assert isinstance(edited, Message) and edited.caption == "new"
    with pytest.raises(BadRequest, match=r"(?i)no text in the message"):
        await bot.edit_message_text("x", CHAT, photo.message_id)
    fake.strict_chats = True
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(CHAT + 1, "nobody started me here")


# --------------------------------------------------------------------------- network faults


async def test_timed_out_send_may_still_be_delivered(bot: Bot, fake: FakeTelegram) -> None:
    """timeout_next(delivered=True): PTB sees TimedOut, yet the message is in the chat."""
    fake.timeout_next("sendMessage", delivered=True)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "Workout done?")
    assert [msg.text for msg in fake.bot_messages(CHAT)] == ["Workout done?"]
    assert [call.ok for call in fake.calls_to("sendMessage")] == [True]
    await bot.send_message(CHAT, "next one is fine")  # times=1: the fault is used up
    assert fake.sent_texts(CHAT) == ["Workout done?", "next one is fine"]

    sent = fake.last_bot_message(CHAT)
    fake.timeout_next("editMessageText", delivered=True)
    with pytest.raises(TimedOut):
        await bot.edit_message_text("edited", chat_id=CHAT, message_id=sent.message_id)
    assert fake.last_bot_message(CHAT).text == "edited"


async def test_timed_out_send_that_was_not_delivered(bot: Bot, fake: FakeTelegram) -> None:
    """timeout_next(delivered=False): PTB sees TimedOut and nothing was sent or recorded."""
    before = len(fake.calls)
    fake.timeout_next("sendMessage", delivered=False)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "lost")
    assert fake.bot_messages(CHAT) == []
    assert len(fake.calls) == before
    await bot.send_message(CHAT, "arrives")
    assert fake.sent_texts(CHAT) == ["arrives"]


async def test_timeouts_match_method_chat_and_times(bot: Bot, fake: FakeTelegram) -> None:
    """Timeouts follow fail_next's matching: "*" for any method, chat filter, `times` uses."""
    fake.timeout_next("*", delivered=False, times=2, chat_id=CHAT + 1)
    await bot.send_message(CHAT, "other chats are unaffected")
    await bot.send_chat_action(CHAT, "typing")
    for _ in range(2):
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT + 1, "hi")
    await bot.send_message(CHAT + 1, "third try works")
    assert fake.sent_texts(CHAT + 1) == ["third try works"]

    fake.timeout_next("sendMessage", delivered=True)
    fake.clear_faults()  # also drops armed timeouts
    await bot.send_message(CHAT, "no timeout left")


async def test_offline_fails_every_request_until_back_online(bot: Bot, fake: FakeTelegram) -> None:
    """go_offline(): requests raise NetworkError (not TimedOut), nothing is executed."""
    assert not fake.offline
    before = len(fake.calls)
    fake.go_offline()
    assert fake.offline
    calls = (
        lambda: bot.send_message(CHAT, "hi"),
        lambda: bot.get_updates(timeout=0),
        bot.get_me,
    )
    for call in calls:
        with pytest.raises(NetworkError) as error:
            await call()
        assert not isinstance(error.value, TimedOut)
    assert len(fake.calls) == before and fake.bot_messages(CHAT) == []
    fake.go_online()
    assert not fake.offline
    await bot.send_message(CHAT, "back")
    assert fake.sent_texts(CHAT) == ["back"]


async def test_going_offline_fails_a_pending_long_poll(
    bot: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    """An outage fails an in-flight long poll at once; its updates wait for the next poll."""
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_until(lambda: fake.waiting_polls == 1, timeout=1)
    fake.go_offline()
    with pytest.raises(NetworkError):
        await asyncio.wait_for(poll, 1)
    await user.send("written during the outage")
    fake.go_online()
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["written during the outage"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_message_ops_counts_successful_sends_and_edits(bot: Bot, fake: FakeTelegram) -> None:
    """message_ops counts ok sends/edits of messages, optionally per chat."""
    sent = await bot.send_message(CHAT, "Pick", reply_markup=keyboard("A"))
    await bot.edit_message_text("Picked", chat_id=CHAT, message_id=sent.message_id)
    await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=keyboard("B"))
    photo = await bot.send_photo(CHAT, photo=png(4, 3), caption="chart")
    await bot.edit_message_caption(CHAT, photo.message_id, caption="new chart")
    await bot.send_document(CHAT, document=b"a,b\n", filename="x.csv")
    await bot.send_message(CHAT + 1, "elsewhere")
    await bot.send_chat_action(CHAT, "typing")  # not a message op
    fake.flood("sendMessage")
    with pytest.raises(RetryAfter):
        await bot.send_message(CHAT, "flooded")  # failed: not counted
    fake.timeout_next("sendMessage", delivered=False)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "lost")  # never executed: not counted
    fake.timeout_next("sendMessage", delivered=True)
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "delivered")  # executed: counted
    assert fake.message_ops(CHAT) == 7
    assert fake.message_ops(CHAT + 1) == 1
    assert fake.message_ops() == 8
    assert fake.sent_texts(CHAT) == ["Pick", "delivered"]


# --------------------------------------------------------------------------- users & updates


async def test_user_send_produces_a_ptb_update(
    bot: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    """FakeUser messages become updates PTB can de_json."""
    await user.send("/start@band_coach_test_bot now")
    await user.share_location(52.5, 13.4)
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [1, 2]
    command = updates[0].message
    assert command is not None and command.text == "/start@band_coach_test_bot now"
    assert command.entities == (MessageEntity("bot_command", 0, 26),)
    assert command.from_user is not None and command.from_user.first_name == "Alex"
    assert command.chat.type == "private" and command.chat.id == CHAT
    location = updates[1].message
    assert location is not None and location.location is not None
    assert (location.location.latitude, location.location.longitude) == (52.5, 13.4)
    assert [m.from_bot for m in user.messages()] == [False, False]


async def test_get_updates_offset_limit_and_confirmation(bot: Bot, fake: FakeTelegram) -> None:
    """getUpdates honours limit and confirms updates below offset."""
    alex, sam = fake.user(1, "Alex"), fake.user(2, "Sam")
    for text in ("a", "b", "c"):
        await alex.send(text)
    await sam.send("d")
    first = await bot.get_updates(limit=2)
    assert [u.update_id for u in first] == [1, 2]
    assert [u.update_id for u in await bot.get_updates(offset=3)] == [3, 4]
    assert [u["update_id"] for u in fake.pending_updates] == [3, 4]  # 1-2 confirmed and dropped
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == [4]
    assert await bot.get_updates(offset=5) == ()
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_long_poll_wakes_up_on_a_new_update(
    bot: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    """A pending long poll returns as soon as a user writes."""
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_until(lambda: fake.waiting_polls == 1, timeout=1)
    assert not poll.done()
    await user.send("ping")
    updates = await asyncio.wait_for(poll, 1)
    assert [u.message.text for u in updates if u.message] == ["ping"]


async def test_long_poll_times_out_empty_and_newer_poll_terminates_older(
    bot: Bot, fake: FakeTelegram
) -> None:
    """Long polls time out empty, and a newer poll ends an older one with 409."""
    assert await bot.get_updates(timeout=0.05) == ()
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_until(lambda: fake.waiting_polls == 1, timeout=1)
    assert await bot.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
        await asyncio.wait_for(older, 1)


async def test_callback_query_and_answers(bot: Bot, fake: FakeTelegram, user: FakeUser) -> None:
    """Taps produce callback queries that can be answered exactly once."""
    await bot.send_message(CHAT, "Band?", reply_markup=keyboard("🟢 Green", "Green Plus"))
    assert user.buttons() == [["🟢 Green"], ["Green Plus"]]
    assert user.button_data("green plus") == "green plus"
    await user.tap("🟢 Green")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.data == "🟢 green"
    assert isinstance(query.message, Message) and query.message.reply_markup is not None
    assert query.from_user.id == CHAT
    assert await query.answer("Saved!") is True
    assert user.last_answer() == "Saved!"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer("twice")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("forged-id")
    answered = fake.last_callback_answer(CHAT)
    assert answered is not None and answered.data == "🟢 green" and not answered.show_alert


async def test_tap_matching_rules(bot: Bot, user: FakeUser) -> None:
    """tap() matches exact, then case-insensitive, then unique substring labels."""
    await bot.send_message(CHAT, "Band?", reply_markup=keyboard("Green", "Green Plus", "Blue"))
    await user.tap("green")  # case-insensitive beats substring
    await user.tap("Plus")  # unique substring
    with pytest.raises(AssertionError, match="ambiguous"):
        await user.tap("re")
    with pytest.raises(AssertionError, match=r"available buttons: \[\['Green'\]"):
        await user.tap("Purple")
    assert [u.callback_query.data for u in await bot.get_updates() if u.callback_query] == [
        "green",
        "green plus",
    ]


async def test_stale_tap_uses_the_keyboard_the_user_saw(
    bot: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    """A kept FakeMessage snapshot allows realistic stale taps."""
    await bot.send_message(CHAT, "Step 1", reply_markup=keyboard("One"))
    seen = user.last_message()
    await bot.edit_message_text("Step 2", CHAT, 1, reply_markup=keyboard("Two"))
    await user.tap("One", message=seen)  # old keyboard, still on the user's screen
    [update] = await bot.get_updates()
    assert update.callback_query is not None and update.callback_query.data == "one"
    assert isinstance(update.callback_query.message, Message)
    assert update.callback_query.message.text == "Step 2"  # Telegram sends the current message
    await bot.delete_message(CHAT, 1)
    with pytest.raises(AssertionError, match="deleted"):
        await user.tap("Two", message=seen)


async def test_forged_tap_without_any_message(bot: Bot, user: FakeUser) -> None:
    """tap_data() works even before the bot sent anything."""
    await user.tap_data("ob:goal:lift")
    [update] = await bot.get_updates()
    assert update.callback_query is not None
    assert update.callback_query.data == "ob:goal:lift"
    message = update.callback_query.message
    # Telegram sends InaccessibleMessage (date 0); PTB 22 de_jsons it as a Message with
    # date=ZERO_DATE, so handlers must test `is_accessible`, not isinstance.
    assert message is not None and not message.is_accessible and message.chat.id == CHAT


async def test_on_update_delivers_instead_of_queueing(fake: FakeTelegram, user: FakeUser) -> None:
    """With on_update set, updates are delivered instead of queued."""
    seen: list[dict[str, Any]] = []

    async def collect(update: dict[str, Any]) -> None:
        """Record a delivered update."""
        seen.append(update)

    fake.on_update = collect
    returned = await user.send("hi")
    assert seen == [returned] and fake.pending_updates == []
    assert fake.updates == [returned]


# --------------------------------------------------------------------------- waiting


async def test_wait_for_bot_message_is_event_driven(
    bot: Bot, fake: FakeTelegram, user: FakeUser
) -> None:
    """wait_for_bot_message sees new and edited messages after the user's action."""
    await bot.send_message(CHAT, "old reply")
    await user.send("/start")

    async def reply_later() -> None:
        """Reply after yielding, as a concurrently running bot would."""
        await asyncio.sleep(0)
        await bot.send_message(CHAT, "typing…")
        await bot.send_message(CHAT, "Welcome!")

    task = asyncio.create_task(reply_later())
    first = await fake.wait_for_bot_message(CHAT, timeout=1)
    welcome = await fake.wait_for_bot_message(CHAT, lambda m: "Welcome" in (m.text or ""))
    await task
    assert (first.text, welcome.text) == ("typing…", "Welcome!")
    old = await fake.wait_for_bot_message(CHAT, lambda m: m.text == "old reply", since=0)
    assert old.message_id == 1

    await user.tap_data("x", message_id=1)
    edit = asyncio.create_task(bot.edit_message_text("old reply, edited", CHAT, 1))
    edited = await fake.wait_for_bot_message(CHAT, timeout=1)
    await edit
    assert edited.message_id == 1 and edited.edits == ["old reply"]

    await user.send("anything else?")
    with pytest.raises(TimeoutError, match=r"(?s)chat 4242:.*#3 bot: 'typing…'"):
        await fake.wait_for_bot_message(CHAT, timeout=0.02)


async def test_wait_until(bot: Bot, fake: FakeTelegram) -> None:
    """wait_until wakes on state changes and explains timeouts."""
    task = asyncio.create_task(bot.send_message(CHAT, "hi"))
    await fake.wait_until(lambda: len(fake.calls_to("sendMessage")) == 1, timeout=1)
    await task
    with pytest.raises(TimeoutError, match=r"last API calls: .*sendMessage->200"):
        await fake.wait_until(lambda: False, timeout=0.02)


# --------------------------------------------------------------------------- PTB Application


async def test_application_with_on_update(fake: FakeTelegram, user: FakeUser) -> None:
    """A real PTB Application handles commands and taps via on_update."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Ask a question with a keyboard."""
        assert update.effective_message is not None
        await update.effective_message.reply_text("Ready?", reply_markup=keyboard("Go"))

    async def tapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer the tap and edit the question."""
        query = update.callback_query
        assert query is not None
        await query.answer("Let's go")
        await query.edit_message_text(f"Went: {query.data}")

    app = (
        Application.builder()
        .token(DEFAULT_TOKEN)
        .request(fake_request(fake))
        .get_updates_request(fake_request(fake))
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(tapped))

    async def deliver(data: dict[str, Any]) -> None:
        """Feed an update to the application."""
        await app.process_update(Update.de_json(data, app.bot))

    fake.on_update = deliver
    async with app:
        await user.send("/start")
        assert user.last_message().text == "Ready?"
        await user.tap("Go")
    assert user.last_message().text == "Went: go" and user.buttons() == []
    assert user.last_answer() == "Let's go"
    assert [m.describe() for m in user.messages()] == [
        "#1 user: '/start'",
        "#2 bot: 'Went: go'",
    ]


# --------------------------------------------------------------------------- loopback server


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_server_speaks_the_bot_api_over_loopback() -> None:
    """A real Bot talks to FakeBotApiServer over loopback HTTP."""
    async with FakeBotApiServer(FakeTelegram(clock=lambda: NOW)) as server:
        fake = server.fake
        user = fake.user(CHAT)
        assert server.base_url == f"http://127.0.0.1:{server.port}/bot"
        async with Bot(
            DEFAULT_TOKEN, base_url=server.base_url, base_file_url=server.base_file_url
        ) as bot:
            assert bot.username == "band_coach_test_bot"
            poll = asyncio.create_task(bot.get_updates(timeout=5))
            await fake.wait_until(lambda: fake.waiting_polls == 1, timeout=2)
            # other requests are served while the long poll is pending (separate connection)
            sent = await bot.send_message(CHAT, "Pick", reply_markup=keyboard("A"))
            photo = await bot.send_photo(CHAT, photo=png(4, 3), caption="chart")
            doc = await bot.send_document(CHAT, document=b"a,b\n", filename="x.csv")
            assert not poll.done()
            await user.send("hello over HTTP")
            updates = await asyncio.wait_for(poll, 2)
            assert [u.message.text for u in updates if u.message] == ["hello over HTTP"]
            assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
            assert fake.pending_updates == []
            await user.tap("A")
            [tap] = await bot.get_updates(timeout=1)
            assert tap.callback_query is not None and await tap.callback_query.answer("ok")
            fake.flood("sendMessage", retry_after=2)
            with pytest.raises(RetryAfter):
                await bot.send_message(CHAT, "flooded")
            with pytest.raises(BadRequest, match=r"(?i)not modified"):
                await bot.edit_message_text(
                    "Pick", CHAT, sent.message_id, reply_markup=keyboard("A")
                )
        assert photo.photo[-1].width == 4 and photo.caption == "chart"
        assert doc.document is not None and doc.document.file_name == "x.csv"
        assert fake.last_bot_message(CHAT).file_bytes == b"a,b\n"
        assert user.last_answer() == "ok"
        wrong = Bot("987:Nope", base_url=server.base_url)
        with pytest.raises(InvalidToken):
            await wrong.initialize()
        await wrong.shutdown()  # a failed initialize() leaves the HTTP client open
        assert server.errors == []


async def test_server_stop_releases_a_pending_long_poll() -> None:
    """Stopping the server does not hang on an open long poll."""
    server = await FakeBotApiServer().start()
    request = httpx.AsyncClient()
    url = f"{server.base_url}{server.fake.token}/getUpdates"
    poll = asyncio.create_task(request.post(url, data={"timeout": "30"}))
    await server.fake.wait_until(lambda: server.fake.waiting_polls == 1, timeout=2)
    await asyncio.wait_for(server.stop(), 2)
    try:
        response = await asyncio.wait_for(poll, 2)
        assert response.json() == {"ok": True, "result": []}
    except httpx.HTTPError:
        pass  # the connection may also be closed first; either way nothing hangs
    await request.aclose()


async def test_server_hangs_up_while_offline() -> None:
    """While offline the server drops connections unanswered: PTB raises NetworkError."""
    async with FakeBotApiServer(FakeTelegram(clock=lambda: NOW)) as server:
        fake = server.fake
        async with Bot(DEFAULT_TOKEN, base_url=server.base_url) as bot:
            fake.go_offline()
            with pytest.raises(NetworkError):
                await bot.send_message(CHAT, "lost")
            assert fake.sent_texts(CHAT) == []
            fake.go_online()
            await bot.send_message(CHAT, "back")
        assert fake.sent_texts(CHAT) == ["back"]
        assert server.errors == []


async def test_polling_application_against_the_server() -> None:
    """A polling PTB Application works end to end against the server."""
    async with FakeBotApiServer() as server:
        fake = server.fake
        user = fake.user(CHAT)

        async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            """Echo the command back."""
            assert update.effective_message is not None
            await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

        app = Application.builder().token(fake.token).base_url(server.base_url).build()
        app.add_handler(CommandHandler("echo", echo))
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(timeout=5, drop_pending_updates=True)
            await user.send("/echo hi")
            reply = await fake.wait_for_bot_message(CHAT, timeout=3)
            await app.updater.stop()
            await app.stop()
        assert reply.text == "echo: /echo hi"
        assert fake.pending_updates == []  # the final getUpdates confirmed the offset
        assert server.errors == []


# --------------------------------------------------------------------------- HTTP parsing


async def test_handle_http_accepts_json_query_and_form_bodies(fake: FakeTelegram) -> None:
    """handle_http accepts JSON, query-string and urlencoded requests."""
    base = f"https://api.telegram.org/bot{fake.token}"
    status, body = await fake.handle_http(
        "POST",
        f"{base}/sendMessage",
        {"Content-Type": "application/json"},
        json.dumps(
            {"chat_id": 5, "text": "json", "reply_markup": keyboard("A").to_dict()}
        ).encode(),
    )
    assert status == 200 and json.loads(body)["result"]["reply_markup"]["inline_keyboard"]
    status, _ = await fake.handle_http("GET", f"{base}/sendMessage?chat_id=5&text=query", {}, b"")
    assert status == 200
    status, _ = await fake.handle_http(
        "POST",
        f"{base}/sendMessage",
        {"content-type": "application/x-www-form-urlencoded"},
        b"chat_id=5&text=form+%C3%A9",
    )
    assert status == 200
    assert [m.text for m in fake.chat(5)] == ["json", "query", "form é"]
    status, body = await fake.handle_http("POST", "http://x/nothing", {}, b"")
    assert status == 404
    status, body = await fake.handle_http("POST", "http://x/botWRONG/getMe", {}, b"")
    assert (status, json.loads(body)["description"]) == (401, "Unauthorized")


async def test_multipart_parser_round_trips_httpx_encoding() -> None:
    """The multipart parser inverts httpx's encoding for arbitrary data."""
    names = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\')

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(
        fields=st.dictionaries(
            st.text(names, min_size=1, max_size=8),
            st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
            max_size=3,
        ),
        content=st.binary(max_size=300),
        filename=st.text(names, min_size=1, max_size=12),
    )
    def round_trip(fields: dict[str, str], content: bytes, filename: str) -> None:
        """httpx's multipart encoding (what PTB sends) parses back to the same values."""
        fields.pop("document", None)
        request = httpx.Request(
            "POST", "http://x/", data=fields, files={"document": (filename, content)}
        )
        request.read()
        parsed, files = parse_multipart(request.headers["content-type"], request.content)
        assert parsed == fields
        assert files == {"document": (filename, content)}

    round_trip()


async def test_flood_limits_answer_429_past_30_a_second_or_a_burst_in_one_chat() -> None:
    now = [1000.0]
    fake = FakeTelegram(clock=lambda: now[0])
    fake.flood_limits = FloodLimits()

    async def send(chat_id: int) -> int:
        status, body = await fake.handle("sendMessage", {"chat_id": chat_id, "text": "hi"})
        return status if status == 200 else int(body["parameters"]["retry_after"]) * 1000

    assert [await send(1) for _ in range(4)] == [200, 200, 200, 1000]  # a burst of 3, then 1/s
    now[0] += 1.0
    assert await send(1) == 200
    assert [await send(100 + i) for i in range(29)] == [200] * 29  # 30 within the second
    assert await send(200) == 1000  # the bot's budget is spent: another chat waits too
    now[0] += 1.0
    assert await send(200) == 200
    assert fake.flood_limits.refused == 2
    assert sum(1 for c in fake.calls_to("sendMessage") if c.status == 429) == 2


async def test_instant_sends_are_answered_and_counted_without_the_fakes_own_work(
    bot: Bot, fake: FakeTelegram
) -> None:
    """With instant_sends set, sendMessage gets a minimal answer and is only counted by chat."""
    fake.instant_sends = Counter()
    first = await bot.send_message(CHAT, "Time to warm up", reply_markup=keyboard("Start"))
    again = await bot.send_message(CHAT, "Still there?")
    other = await bot.send_message(-100123, "A group")
    assert (first.chat.id, first.message_id, again.message_id) == (CHAT, 1, 2)
    assert (other.chat.id, other.message_id) == (-100123, 1)
    assert fake.instant_sends == Counter({CHAT: 2, -100123: 1})
    assert fake.calls_to("sendMessage") == []  # nothing recorded, nothing validated
    fake.instant_sends = None
    await bot.send_message(CHAT, "Recorded again")
    assert [c.params["text"] for c in fake.calls_to("sendMessage")] == ["Recorded again"]
