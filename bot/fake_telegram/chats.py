"""The fake's chat store: message history, snapshots for inspection, and Telegram JSON."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from typing import Any

from .errors import BAD_REQUEST_CHAT_NOT_FOUND, FORBIDDEN_BOT_BLOCKED, FakeApiError
from .models import ApiCall, CallbackQueryRecord, FakeMessage, StoredFile
from .wire import Params, json_copy


class ChatStore:
    """Chats, messages and change notification; FakeTelegram.__init__ sets every field."""

    bot_id: int
    bot_username: str
    bot_first_name: str
    clock: Callable[[], float]
    strict_chats: bool
    first_message_id: int
    validate_formatting: bool
    on_change: Callable[[], None] | None
    calls: list[ApiCall]
    chats: dict[int, dict[str, Any]]
    blocked: set[int]
    commands: dict[tuple[str, str], list[dict[str, Any]]]
    callback_queries: dict[str, CallbackQueryRecord]
    chat_actions: list[tuple[int, str]]
    files: dict[str, StoredFile]
    webhook_url: str
    version: int
    waiting_polls: int
    _history: dict[int, list[FakeMessage]]
    _pending: list[dict[str, Any]]
    _answer_order: list[str]
    _changed: asyncio.Event
    _next_serial: int
    _poll_generation: int
    _interrupts: int

    # ------------------------------------------------------------------ inspection

    # Accessors return snapshots: a FakeMessage kept by a test shows what the user saw then
    # (tapping an old keyboard after an edit is a realistic stale tap).

    def history(self, chat_id: int) -> list[FakeMessage]:
        """Return snapshots of every message of a chat, deleted ones included."""
        return copy.deepcopy(self._history.get(chat_id, []))

    def chat(self, chat_id: int) -> list[FakeMessage]:
        """Return snapshots of the visible (non-deleted) messages of a chat in order."""
        return copy.deepcopy([msg for msg in self._history.get(chat_id, []) if not msg.deleted])

    def bot_messages(self, chat_id: int) -> list[FakeMessage]:
        """Return the visible messages the bot sent to a chat."""
        return copy.deepcopy(
            [msg for msg in self._history.get(chat_id, []) if msg.from_bot and not msg.deleted]
        )

    def _last_bot(self, chat_id: int, *, keyboard: bool) -> FakeMessage | None:
        """Return a snapshot of the bot's latest visible message (with a keyboard, if asked)."""
        for msg in reversed(self._history.get(chat_id, [])):
            if msg.from_bot and not msg.deleted and (msg.inline_keyboard or not keyboard):
                return copy.deepcopy(msg)  # only this one: a long chat is not copied per look
        return None

    def last_bot_message(self, chat_id: int) -> FakeMessage:
        """Return the bot's latest visible message in a chat (AssertionError if none)."""
        found = self._last_bot(chat_id, keyboard=False)
        if found is None:
            raise AssertionError(f"No bot messages in chat {chat_id}.\n{self.describe(chat_id)}")
        return found

    def last_keyboard_message(self, chat_id: int) -> FakeMessage:
        """Return the bot's latest visible message that carries an inline keyboard."""
        found = self._last_bot(chat_id, keyboard=True)
        if found is None:
            raise AssertionError(
                f"No bot message with an inline keyboard in chat {chat_id}.\n"
                f"{self.describe(chat_id)}"
            )
        return found

    def find_message(self, chat_id: int, message_id: int) -> FakeMessage | None:
        """Return a snapshot of a message by id (deleted ones included) or None."""
        return copy.deepcopy(self._find(chat_id, message_id))

    def _find(self, chat_id: int, message_id: int) -> FakeMessage | None:
        """Return the live message object by id (deleted ones included) or None."""
        for msg in self._history.get(chat_id, []):
            if msg.message_id == message_id:
                return msg
        return None

    def my_commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list:
        """Return the commands set for a scope/language (default scope if None)."""
        return copy.deepcopy(self.commands.get(self._commands_key(scope, language_code), []))

    def last_callback_answer(self, chat_id: int) -> CallbackQueryRecord | None:
        """Return the latest answered callback query from a chat's user, if any."""
        for query_id in reversed(self._answer_order):
            query = self.callback_queries[query_id]
            if query.chat_id == chat_id:
                return query
        return None

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Return updates queued for getUpdates and not yet confirmed."""
        return copy.deepcopy(self._pending)

    def describe(self, chat_id: int | None = None, last: int = 10) -> str:
        """Return a readable dump of the last messages of one chat (or of all chats)."""
        chat_ids = [chat_id] if chat_id is not None else sorted(self._history)
        lines: list[str] = []
        for cid in chat_ids:
            lines.append(f"chat {cid}:")
            messages = self._history.get(cid, [])[-last:]
            lines.extend(f"  {msg.describe()}" for msg in messages)
            if not messages:
                lines.append("  (no messages)")
        recent = ", ".join(f"{c.method}->{c.status}" for c in self.calls[-last:])
        lines.append(f"last API calls: {recent or '(none)'}")
        return "\n".join(lines)

    async def _wait(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Wait until predicate() holds or `seconds` elapse; return the final predicate value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not predicate():
            event = self._changed
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True

    def _notify(self) -> None:
        """Bump the state version, wake every waiter and call the on_change hook."""
        self.version += 1
        event, self._changed = self._changed, asyncio.Event()
        event.set()
        if self.on_change is not None:
            self.on_change()

    # ------------------------------------------------------------------ JSON builders

    def bot_user(self) -> dict[str, Any]:
        """Return the bot as Telegram User JSON."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def message_json(self, msg: FakeMessage, *, include_reply: bool = True) -> dict[str, Any]:
        """Return a message as Telegram Message JSON."""
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": self.bot_user() if msg.from_bot else dict(msg.sender),
            "chat": dict(self.chats[msg.chat_id]),
            "date": msg.date,
        }
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        if msg.kind == "text":
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = json_copy(msg.entities)
        elif msg.kind == "location" and msg.location:
            data["location"] = {"latitude": msg.location[0], "longitude": msg.location[1]}
        elif msg.kind in ("photo", "document"):
            data.update(self._media_json(msg))
            if msg.text is not None:
                data["caption"] = msg.text
                if msg.entities:
                    data["caption_entities"] = json_copy(msg.entities)
        if msg.inline_keyboard:
            data["reply_markup"] = json_copy(msg.reply_markup)
        if include_reply and msg.reply_to_message_id is not None:
            target = self._find(msg.chat_id, msg.reply_to_message_id)
            if target is not None and not target.deleted:
                data["reply_to_message"] = self.message_json(target, include_reply=False)
        return data

    def _media_json(self, msg: FakeMessage) -> dict[str, Any]:
        """Return the photo / document part of a media message."""
        stored = self.files[str(msg.file_id)]
        if msg.kind == "document":
            return {
                "document": {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_name": stored.filename,
                    "mime_type": stored.mime_type,
                    "file_size": len(stored.content),
                }
            }
        sizes = []
        scale = min(1.0, 320 / max(stored.width, stored.height, 1))
        if scale < 1.0:
            sizes.append(
                {
                    "file_id": f"{stored.file_id}-s",
                    "file_unique_id": f"{stored.file_unique_id}s",
                    "width": max(1, round(stored.width * scale)),
                    "height": max(1, round(stored.height * scale)),
                    "file_size": max(1, round(len(stored.content) * scale * scale)),
                }
            )
        sizes.append(
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": stored.width,
                "height": stored.height,
                "file_size": len(stored.content),
            }
        )
        return {"photo": sizes}

    def restore(self, chat_id: int, messages: list[FakeMessage]) -> None:
        """Put back the saved messages of a chat under their own ids (a console chat resumed)."""
        history = self._history.setdefault(chat_id, [])
        if history:
            raise ValueError("only an empty chat can be restored")
        for message in messages:
            history.append(copy.deepcopy(message))
            self._touch(history[-1])

    # ------------------------------------------------------------------ internals

    def _serial(self) -> int:
        """Return a fresh process-unique serial number."""
        self._next_serial += 1
        return self._next_serial

    def _add_message(self, chat_id: int, *, from_bot: bool, **fields: Any) -> FakeMessage:
        """Append a new message (bot or user) to a chat and notify waiters."""
        history = self._history.setdefault(chat_id, [])
        msg = FakeMessage(
            chat_id=chat_id,
            message_id=history[-1].message_id + 1 if history else self.first_message_id,
            from_bot=from_bot,
            date=int(self.clock()),
            **fields,
        )
        history.append(msg)
        self._touch(msg)
        return msg

    def _touch(self, msg: FakeMessage) -> None:
        """Mark a message as changed now (for wait_for_bot_message) and notify waiters."""
        self._notify()
        msg.version = self.version

    def _chat_id(self, params: Params) -> int:
        """Return the validated target chat id, creating lenient private chats on demand."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise FakeApiError(400, "Bad Request: chat_id is empty")
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise FakeApiError(400, BAD_REQUEST_CHAT_NOT_FOUND)
        if chat_id not in self.chats:
            if self.strict_chats or chat_id <= 0:
                raise FakeApiError(400, BAD_REQUEST_CHAT_NOT_FOUND)
            name = f"User {chat_id}"
            self.chats[chat_id] = {"id": chat_id, "type": "private", "first_name": name}
            self._history.setdefault(chat_id, [])
        return chat_id

    def _writable_chat(self, params: Params) -> int:
        """Return the target chat id, failing with 403 when the user blocked the bot."""
        chat_id = self._chat_id(params)
        if chat_id in self.blocked:
            raise FakeApiError(403, FORBIDDEN_BOT_BLOCKED)
        return chat_id

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        """Return the storage key for a command scope + language."""
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")
