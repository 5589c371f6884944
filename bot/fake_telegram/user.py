"""FakeUser: act as a Telegram user in a private chat with the bot."""

from __future__ import annotations

from typing import Any

from .formatting import utf16_len
from .limits import MAX_TEXT_LENGTH
from .models import FakeMessage
from .state import FakeTelegram


def command_entities(text: str) -> list[dict[str, Any]]:
    """Return the bot_command entity Telegram attaches to a text starting with '/'."""
    if not text.startswith("/") or len(text) < 2:
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]


class FakeUser:
    """A Telegram user chatting privately with the bot (chat_id == user_id)."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str = "Alex",
        language_code: str = "en",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> None:
        """Create the user and open its private chat with the bot."""
        self.fake = fake
        self.user_id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.last_name = last_name
        self.username = username
        fake.register_user(self.to_dict())

    @property
    def chat_id(self) -> int:
        """Return the private chat id (equal to the user id)."""
        return self.user_id

    def to_dict(self) -> dict[str, Any]:
        """Return the user as Telegram User JSON."""
        user: dict[str, Any] = {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        return user

    # ------------------------------------------------------------------ actions

    async def send(self, text: str) -> dict[str, Any]:
        """Send a text message (commands get a bot_command entity); return the update."""
        if not text.strip():
            raise AssertionError("Telegram users cannot send empty messages")
        if utf16_len(text) > MAX_TEXT_LENGTH:
            raise AssertionError("Telegram splits messages longer than 4096 characters")
        msg = self.fake.add_user_message(
            self.chat_id, self.to_dict(), text=text, entities=command_entities(text) or None
        )
        return await self.fake.deliver({"message": self.fake.message_json(msg)})

    async def send_in(self, chat_id: int, text: str) -> dict[str, Any]:
        """Send a text message in another chat (a group opened with open_group)."""
        msg = self.fake.add_user_message(
            chat_id, self.to_dict(), text=text, entities=command_entities(text) or None
        )
        return await self.fake.deliver({"message": self.fake.message_json(msg)})

    async def share_location(self, latitude: float, longitude: float) -> dict[str, Any]:
        """Share a location message; return the update."""
        msg = self.fake.add_user_message(
            self.chat_id, self.to_dict(), location=(latitude, longitude)
        )
        return await self.fake.deliver({"message": self.fake.message_json(msg)})

    async def tap(self, label: str, message: FakeMessage | None = None) -> dict[str, Any]:
        """Tap an inline button by label (default: in the last keyboard); return the update."""
        target = message if message is not None else self.fake.last_keyboard_message(self.chat_id)
        current = self.fake.find_message(self.chat_id, target.message_id)
        if current is None or current.deleted:
            raise AssertionError(f"Message #{target.message_id} was deleted; it cannot be tapped")
        button = target.find_button(label)  # the keyboard as the user saw it (maybe stale)
        if "callback_data" not in button:
            raise AssertionError(f"Button {label!r} is not a callback button: {button}")
        return await self._callback(target.message_id, str(button["callback_data"]))

    async def tap_data(self, data: str, message_id: int | None = None) -> dict[str, Any]:
        """Forge a callback query with arbitrary data (default: on the last bot message)."""
        if message_id is None:
            bot_messages = self.fake.bot_messages(self.chat_id)
            message_id = bot_messages[-1].message_id if bot_messages else 1
        return await self._callback(message_id, data)

    async def _callback(self, message_id: int, data: str) -> dict[str, Any]:
        """Create and deliver a callback_query update."""
        query = self.fake.open_callback_query(self.chat_id, self.to_dict(), message_id, data)
        return await self.fake.deliver({"callback_query": query})

    # ------------------------------------------------------------------ inspection

    def last_message(self) -> FakeMessage:
        """Return the bot's latest visible message in this chat."""
        return self.fake.last_bot_message(self.chat_id)

    def messages(self) -> list[FakeMessage]:
        """Return all visible messages (both sides) of this chat."""
        return self.fake.chat(self.chat_id)

    def buttons(self, message: FakeMessage | None = None) -> list[list[str]]:
        """Return inline button labels of a message (default: the last keyboard, else [])."""
        if message is not None:
            return message.buttons
        try:
            return self.fake.last_keyboard_message(self.chat_id).buttons
        except AssertionError:
            return []

    def button_data(self, label: str, message: FakeMessage | None = None) -> str:
        """Return the callback_data behind a button label."""
        target = message if message is not None else self.fake.last_keyboard_message(self.chat_id)
        return target.button_data(label)

    def last_answer(self) -> str | None:
        """Return the text of the latest answerCallbackQuery for this user's taps."""
        record = self.fake.last_callback_answer(self.chat_id)
        return record.text if record else None
