"""Updates from outside a member's private chat, and updates of odd shapes (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update
from telegram.ext import filters

from bot.coaching import texts
from bot.context import BandCoachApp
from bot.fake_telegram import FakeTelegram, FakeUser
from storage import repositories as repo
from storage.db import Database
from tests.conftest import HandlerErrors
from tests.flows import onboard, rows_of
from tests.shapes import MESSAGE_KINDS, OTHER_UPDATES, message, update_of

# Every fault here runs with DEBUG logs on, and none of them may carry the token.
pytestmark = pytest.mark.usefixtures("debug_logs_without_token")

GROUP = -100_555


async def member(db: Database, user_id: int) -> tuple[int, bool]:
    """Return a member's stored chat id and whether they are active."""
    async with db.read() as session:
        user = await repo.get_user(session, user_id)
        assert user is not None
        await session.refresh(user)
        return user.chat_id, user.is_active


async def test_start_in_a_group_points_to_a_private_chat_and_changes_nothing(
    fake: FakeTelegram, user: FakeUser, app_db: Database, app: BandCoachApp
) -> None:
    await onboard(user)
    fake.open_group(GROUP)
    await user.send_in(GROUP, f"/start@{app.bot.username}")
    [reply] = fake.bot_messages(GROUP)
    assert reply.text.startswith("I coach each member one to one")
    assert f"https://t.me/{app.bot.username}" in reply.text
    for text in ("/help", "hello everyone", "/warmup", "/help@some_other_bot", "12"):
        await user.send_in(GROUP, text)
    assert len(fake.bot_messages(GROUP)) == 2  # /help got the pointer; the rest got nothing
    assert await member(app_db, user.user_id) == (user.chat_id, True)


async def test_a_command_for_another_bot_is_ignored_in_private_too(
    fake: FakeTelegram, user: FakeUser
) -> None:
    await onboard(user)
    before = len(fake.bot_messages(user.chat_id))
    await user.send("/help@some_other_bot")
    assert len(fake.bot_messages(user.chat_id)) == before
    await user.send("/dance")
    assert user.last_message().text.startswith("I don't know /dance")


def _update(**payload: Any) -> dict[str, Any]:
    """Return an update payload (the fake assigns the update id)."""
    return payload


async def test_updates_without_a_member_or_without_data_are_handled_quietly(
    fake: FakeTelegram, user: FakeUser, handler_errors: HandlerErrors, app_db: Database
) -> None:
    await onboard(user)
    fake.open_group(GROUP)
    channel = {"id": -100_777, "type": "channel", "title": "News"}
    group = fake.chats[GROUP]
    odd = [
        # A message sent on behalf of a channel, with sender_chat and no from.
        {"message": {"message_id": 901, "date": 0, "chat": group, "sender_chat": channel,
                     "text": "/start"}},
        {"channel_post": {"message_id": 902, "date": 0, "chat": channel, "text": "/help"}},
        # A service message: someone joined the group.
        {"message": {"message_id": 903, "date": 0, "chat": group, "from": user.to_dict(),
                     "new_chat_members": [user.to_dict()]}},
        # A button with no data (a game), and an inline-mode button with no message.
        {"callback_query": {"id": "cb1", "from": user.to_dict(), "chat_instance": "1",
                            "game_short_name": "x"}},
        {"callback_query": {"id": "cb2", "from": user.to_dict(), "chat_instance": "1",
                            "inline_message_id": "AAA", "data": "ws:1:0:d"}},
        {"edited_message": {"message_id": 904, "date": 0, "edit_date": 1,
                            "chat": fake.chats[user.chat_id], "from": user.to_dict(),
                            "text": "/warmup"}},
    ]  # fmt: skip
    sent = len(fake.calls_to("sendMessage"))
    for payload in odd:
        await fake.deliver(payload)
    assert handler_errors.errors == []
    assert len(fake.calls_to("sendMessage")) == sent
    assert await member(app_db, user.user_id) == (user.chat_id, True)


async def test_blocking_and_unblocking_the_bot_marks_the_member(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    await onboard(user)

    def change(old: str, new: str) -> dict[str, Any]:
        bot = {"id": fake.bot_id, "is_bot": True, "first_name": "Band Coach"}
        return {
            "my_chat_member": {
                "chat": fake.chats[user.chat_id], "from": user.to_dict(), "date": 0,
                "old_chat_member": {"user": bot, "status": old, "until_date": 0},
                "new_chat_member": {"user": bot, "status": new, "until_date": 0},
            }
        }  # fmt: skip

    await fake.deliver(change("member", "kicked"))
    assert await member(app_db, user.user_id) == (user.chat_id, False)
    await fake.deliver(change("kicked", "member"))
    assert await member(app_db, user.user_id) == (user.chat_id, True)
    assert texts.ERROR not in [m.text for m in fake.bot_messages(user.chat_id)]


# Kinds of private message that may change a member's data: the answer to a question.
ANSWERS = frozenset({"text", "location", "venue"})


def expects_answer(payload: dict[str, Any], private: int) -> bool:
    """Tell whether the bot should answer: a new private message that is not a service one."""
    found = payload.get("message")
    if found is None or found["chat"]["id"] != private:
        return False
    update = Update.de_json({"update_id": 1, **payload}, None)
    return not filters.StatusUpdate.ALL.check_update(update)


async def test_every_kind_of_update_is_answered_in_private_or_ignored_elsewhere(
    fake: FakeTelegram, user: FakeUser, app_db: Database, handler_errors: HandlerErrors
) -> None:
    await onboard(user)
    fake.open_group(GROUP)
    fake.open_group(GROUP - 1, kind="group")
    private, member = fake.chats[user.chat_id], user.to_dict()
    channel = {"id": -100_777, "type": "channel", "title": "News"}
    forwarded = {"type": "user", "date": 0, "sender_user": {**member, "id": 5, "first_name": "Jo"}}
    payloads: list[tuple[str, dict[str, Any]]] = []
    for n, kind in enumerate(MESSAGE_KINDS):
        shapes = {
            "message": [
                message(kind, private, member, message_id=1000 + n),
                message(kind, private, member, message_id=2000 + n, forward_origin=forwarded),
                message(kind, fake.chats[GROUP], member, message_id=3000 + n),
                message(kind, fake.chats[GROUP - 1], member, message_id=4000 + n),
                message(kind, fake.chats[GROUP], None, sender_chat=channel, message_id=5000 + n),
            ],
            "edited_message": [message(kind, private, member, message_id=6000 + n)],
            "channel_post": [message(kind, channel, None, sender_chat=channel, message_id=n)],
        }
        payloads += [(kind, {field: body}) for field, bodies in shapes.items() for body in bodies]
    payloads += [(kind, update_of(kind, member, private)) for kind in OTHER_UPDATES]

    for kind, payload in payloads:
        before, calls = await rows_of(app_db, [user.user_id]), len(fake.calls)
        await fake.deliver(payload)
        made = fake.calls[calls:]
        where = f"{kind}: {payload}"
        assert handler_errors.errors == [], where
        assert all(call.ok for call in made), f"{where}\n{made}"
        messages = [c for c in made if c.method != "answerCallbackQuery"]
        assert all(c.params.get("chat_id") == user.chat_id for c in messages), where
        if expects_answer(payload, user.chat_id):
            assert messages, f"no answer to {where}"
        else:
            assert messages == [], f"answered {where}"
        if kind not in ANSWERS:
            assert await rows_of(app_db, [user.user_id]) == before, where
    assert len(payloads) > 5 * len(MESSAGE_KINDS)


async def test_start_with_a_deep_link_payload_starts_as_usual(
    fake: FakeTelegram, app: BandCoachApp
) -> None:
    newcomer = fake.user(3003, first_name="Kai")
    await newcomer.send("/start coach_42")
    assert newcomer.buttons(), newcomer.last_message().text
