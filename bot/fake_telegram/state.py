"""FakeTelegram: an in-memory state machine emulating the Telegram Bot API (no network)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from .errors import NOT_FOUND, UNAUTHORIZED, FakeApiError, too_many_requests
from .faults import Fault
from .flood import FloodLimits
from .methods import BotApiMethods
from .models import ApiCall, CallbackQueryRecord, FakeMessage, StoredFile
from .network import NetworkFaults, WireTimeout
from .wire import Files, Params, json_copy, normalise_params, parse_http_request

if TYPE_CHECKING:
    from .user import FakeUser

UpdateCallback = Callable[[dict[str, Any]], Awaitable[None]]

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"
DEFAULT_BOT_USERNAME = "band_coach_test_bot"

_METHODS = tuple(
    [
        "getMe",
        "sendMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "answerCallbackQuery",
        "setMyCommands",
        "getMyCommands",
        "deleteMyCommands",
        "deleteMessage",
        "sendPhoto",
        "sendDocument",
        "sendChatAction",
        "getUpdates",
        "deleteWebhook",
        "setWebhook",
        "getWebhookInfo",
        "close",
        "logOut",
    ]
)
_CANONICAL = {name.lower(): name for name in _METHODS}
_MESSAGE_OPS = frozenset(
    [
        "sendmessage",
        "sendphoto",
        "senddocument",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
    ]
)


def _bot_id_from_token(token: str) -> int:
    """Return the numeric bot id encoded before the colon of a bot token."""
    prefix = token.split(":", 1)[0]
    return int(prefix) if prefix.isdigit() else 123456789


@dataclass
class Gate:
    """Holds calls of one method until opened; counts the calls that arrived meanwhile."""

    opened: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0


class FakeTelegram(NetworkFaults, BotApiMethods):
    """Stateful in-memory Telegram Bot API: chats, updates, callbacks and injected faults."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_BOT_USERNAME,
        clock: Callable[[], float] = time.time,
        *,
        bot_first_name: str = "Band Coach",
        strict_chats: bool = False,
        first_message_id: int = 1,
    ) -> None:
        """Create an empty fake Telegram for one bot token."""
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.bot_id = _bot_id_from_token(token)
        self.clock = clock
        self.strict_chats = strict_chats
        # Each chat numbers its messages from here (the console starts past earlier runs' ids).
        self.first_message_id = first_message_id
        self.validate_formatting = True
        self.on_update: UpdateCallback | None = None
        # Called (synchronously, keep it quick) after every change; the console redraws from it.
        self.on_change: Callable[[], None] | None = None
        # When set, sendMessage is answered at once by the transport with a canned message and
        # only counted here, by chat: a Bot API whose own work costs nothing (benchmarks).
        self.instant_sends: Counter[int] | None = None
        self.calls: list[ApiCall] = []
        self.updates: list[dict[str, Any]] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.files: dict[str, StoredFile] = {}
        self.webhook_url = ""
        # Methods held until a test lets them answer (see hold()): a call in flight, on demand.
        self.gates: dict[str, Gate] = {}
        # Telegram's message rate limits, off unless a test or benchmark sets FloodLimits().
        self.flood_limits: FloodLimits | None = None
        self.version = 0
        self._history: dict[int, list[FakeMessage]] = {}
        self._pending: list[dict[str, Any]] = []
        self._answer_order: list[str] = []
        self._last_user_action: dict[int, int] = {}
        self._faults: list[Fault] = []
        self._timeouts: list[WireTimeout] = []
        self._offline = False
        self._changed = asyncio.Event()
        self._next_update_id = 1
        self._next_serial = 1
        self._poll_generation = 0
        self._interrupts = 0
        self.waiting_polls = 0
        self._handlers: dict[str, Callable[[Params, Files], Awaitable[Any]]] = {
            "getme": self._get_me,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "deletemessage": self._delete_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "sendchataction": self._send_chat_action,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "close": self._ok,
            "logout": self._ok,
        }

    # ------------------------------------------------------------------ API entry points

    async def handle(
        self, method: str, params: Mapping[str, Any], files: Files | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Execute one Bot API method and return (http_status, json_body) like Telegram."""
        name = _CANONICAL.get(method.lower(), method)
        files = dict(files or {})
        normalised: Params = dict(params)
        try:
            normalised = normalise_params(params)
            fault = self._take_fault(name.lower(), normalised)
            if fault is not None:
                raise FakeApiError(fault.code, fault.description, fault.retry_after)
            if self.flood_limits is not None and name.lower() in _MESSAGE_OPS:
                wait = self.flood_limits.admit(int(normalised.get("chat_id", 0)), self.clock())
                if wait is not None:
                    raise FakeApiError(429, too_many_requests(wait), wait)
            handler = self._handlers.get(name.lower())
            if handler is None:
                raise FakeApiError(404, NOT_FOUND)
            gate = self.gates.get(name.lower())
            if gate is not None:
                gate.waiting += 1
                self._notify()
                await gate.opened.wait()
            result = await handler(normalised, files)
            status, body = 200, {"ok": True, "result": result}
        except FakeApiError as error:
            status, body = error.code, error.body()
        self._record(name, normalised, status, body, files)
        return status, body

    async def handle_http(
        self, http_method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, bytes]:
        """Serve one raw HTTP request to /bot<TOKEN>/<method>; return (status, JSON bytes)."""
        try:
            parsed = parse_http_request(url, headers, body)
        except ValueError as error:
            payload = FakeApiError(400, f"Bad Request: can't parse request body: {error}").body()
            return 400, json.dumps(payload).encode("utf-8")
        if parsed is None:
            status, payload = 404, FakeApiError(404, NOT_FOUND).body()
        elif parsed.token != self.token:
            status, payload = 401, FakeApiError(401, UNAUTHORIZED).body()
            self._record(parsed.method, parsed.params, status, payload, parsed.files)
        else:
            status, payload = await self.handle(parsed.method, parsed.params, parsed.files)
        return status, orjson.dumps(payload)  # UTF-8, like Telegram's own answers

    def hold(self, method: str) -> Gate:
        """Make calls of `method` wait until the returned gate is opened (then all answer)."""
        gate = self.gates[method.lower()] = Gate()
        return gate

    def calls_to(self, method: str) -> list[ApiCall]:
        """Return recorded calls of one method (case-insensitive)."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def message_ops(self, chat_id: int | None = None) -> int:
        """Count successful sends and edits of messages (optionally in one chat)."""
        return sum(
            1
            for call in self.calls
            if call.ok
            and call.method.lower() in _MESSAGE_OPS
            and (chat_id is None or call.params.get("chat_id") == chat_id)
        )

    def sent_texts(self, chat_id: int) -> list[str]:
        """Return the texts of successful sendMessage calls to a chat, in order."""
        return [
            str(call.params.get("text", ""))
            for call in self.calls_to("sendMessage")
            if call.ok and call.params.get("chat_id") == chat_id
        ]

    # ------------------------------------------------------------------ waiting

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Wait (event-driven) until predicate() is true; TimeoutError with state dump if not."""
        if not await self._wait(predicate, timeout):
            raise TimeoutError(
                f"Condition {predicate!r} not met within {timeout}s.\n{self.describe()}"
            )

    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: Callable[[FakeMessage], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        since: int | None = None,
    ) -> FakeMessage:
        """Wait for a bot message sent or edited after the user's last action (or `since`).

        Returns the earliest such change matching predicate; `since=0` also accepts old ones.
        """
        floor = self._last_user_action.get(chat_id, 0) if since is None else since
        found: list[FakeMessage] = []

        def check() -> bool:
            """Collect matching messages changed after the floor version."""
            found[:] = sorted(
                (
                    msg
                    for msg in self.bot_messages(chat_id)
                    if msg.version > floor and (predicate is None or predicate(msg))
                ),
                key=lambda msg: msg.version,
            )
            return bool(found)

        if not await self._wait(check, timeout):
            raise TimeoutError(
                f"No bot message in chat {chat_id} matching {predicate!r} within {timeout}s "
                f"(changes after version {floor}).\n{self.describe(chat_id)}"
            )
        return found[0]

    def interrupt_polls(self) -> None:
        """Make every pending getUpdates long poll return immediately."""
        self._interrupts += 1
        self._notify()

    def _record(
        self, method: str, params: Params, status: int, body: dict[str, Any], files: Files
    ) -> None:
        """Append an ApiCall and notify waiters."""
        self.calls.append(ApiCall(method, params, status, body, files, at=self.clock()))
        self._notify()

    # ------------------------------------------------------------------ user side

    def user(
        self,
        user_id: int,
        first_name: str = "Alex",
        language_code: str = "en",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """Create a FakeUser chatting privately with the bot."""
        from .user import FakeUser

        return FakeUser(
            self,
            user_id,
            first_name=first_name,
            language_code=language_code,
            last_name=last_name,
            username=username,
        )

    def open_group(self, chat_id: int, title: str = "Gym", kind: str = "supergroup") -> None:
        """Open a group chat (negative id) that users can write in."""
        self.chats[chat_id] = {"id": chat_id, "type": kind, "title": title}
        self._history.setdefault(chat_id, [])

    def register_user(self, user: Mapping[str, Any]) -> None:
        """Open (or refresh) the private chat with a user given as Telegram User JSON."""
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if user.get(key):
                chat[key] = user[key]
        self.chats[int(user["id"])] = chat
        self._history.setdefault(int(user["id"]), [])

    def add_user_message(
        self,
        chat_id: int,
        sender: Mapping[str, Any],
        *,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        location: tuple[float, float] | None = None,
    ) -> FakeMessage:
        """Append a message written by the user to the chat history."""
        self._mark_user_action(chat_id)
        return self._add_message(
            chat_id,
            from_bot=False,
            kind="location" if location else "text",
            text=text,
            raw_text=text,
            entities=entities,
            location=location,
            sender=dict(sender),
        )

    def open_callback_query(
        self, chat_id: int, sender: Mapping[str, Any], message_id: int, data: str
    ) -> dict[str, Any]:
        """Register a callback query for a button tap and return its CallbackQuery JSON."""
        self._mark_user_action(chat_id)
        query_id = str(4_000_000_000_000_000 + self._serial())
        self.callback_queries[query_id] = CallbackQueryRecord(
            query_id, chat_id, int(sender["id"]), message_id, data
        )
        msg = self._find(chat_id, message_id)
        if msg is not None and not msg.deleted:
            message = self.message_json(msg)
        else:
            message = {"chat": dict(self.chats[chat_id]), "message_id": message_id, "date": 0}
        return {
            "id": query_id,
            "from": dict(sender),
            "message": message,
            "chat_instance": str((chat_id * 2654435761) % 2**62),
            "data": data,
        }

    async def deliver(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Assign an update_id and hand the update to on_update, or queue it for getUpdates."""
        update = {"update_id": self._next_update_id, **json_copy(dict(payload))}
        self._next_update_id += 1
        query = update.get("callback_query")
        if query is not None and str(query["id"]) not in self.callback_queries:
            self._register_query(query)  # a hand-built query can be answered like a tap's
        self.updates.append(update)
        if self.on_update is not None:
            self._notify()
            await self.on_update(json_copy(update))
        else:
            self._pending.append(update)
            self._notify()
        return update

    def _register_query(self, query: Mapping[str, Any]) -> None:
        """Record a callback query built by a test, so the bot's answer to it is accepted."""
        sender = int(query["from"]["id"])
        message = query.get("message") or {}
        chat_id = int(message.get("chat", {}).get("id", sender))
        self.callback_queries[str(query["id"])] = CallbackQueryRecord(
            str(query["id"]), chat_id, sender, message.get("message_id"), str(query.get("data", ""))
        )

    def _mark_user_action(self, chat_id: int) -> None:
        """Remember the state version of the user's latest action in a chat."""
        self._notify()
        self._last_user_action[chat_id] = self.version
