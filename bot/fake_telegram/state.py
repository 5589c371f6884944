"""In-memory state machine emulating the Telegram Bot API (no network, no threads)."""

from __future__ import annotations

import asyncio
import copy
import json
import mimetypes
import re
import struct
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from .transport import parse_http_request

if TYPE_CHECKING:
    from .user import FakeUser

Params = dict[str, Any]
Files = dict[str, tuple[str, bytes]]
UpdateCallback = Callable[[dict[str, Any]], Awaitable[None]]

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"
DEFAULT_BOT_USERNAME = "band_coach_test_bot"

# Real Telegram error descriptions (https://core.telegram.org/bots/api#making-requests).
NOT_FOUND = "Not Found"
UNAUTHORIZED = "Unauthorized"
INTERNAL_SERVER_ERROR = "Internal Server Error"
FORBIDDEN_BOT_BLOCKED = "Forbidden: bot was blocked by the user"
BAD_REQUEST_CHAT_NOT_FOUND = "Bad Request: chat not found"
BAD_REQUEST_TEXT_EMPTY = "Bad Request: message text is empty"
BAD_REQUEST_TEXT_TOO_LONG = "Bad Request: message is too long"
BAD_REQUEST_CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BAD_REQUEST_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
BAD_REQUEST_CANT_EDIT = "Bad Request: message can't be edited"
BAD_REQUEST_NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
BAD_REQUEST_NO_CAPTION_TO_EDIT = "Bad Request: there is no caption in the message to edit"
BAD_REQUEST_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BAD_REQUEST_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
BAD_REQUEST_REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
BAD_REQUEST_QUERY_TOO_OLD = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
BAD_REQUEST_BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
BAD_REQUEST_BUTTON_URL_INVALID = "Bad Request: BUTTON_URL_INVALID"
BAD_REQUEST_TEXT_BUTTON = (
    "Bad Request: can't parse inline keyboard button: "
    "Text buttons are unallowed in the inline keyboard"
)
BAD_REQUEST_MARKUP_JSON = "Bad Request: can't parse reply keyboard markup JSON object"
BAD_REQUEST_INLINE_EXPECTED = "Bad Request: inline keyboard expected"
BAD_REQUEST_COMMAND_INVALID = "Bad Request: BOT_COMMAND_INVALID"
BAD_REQUEST_COMMAND_DESCRIPTION_INVALID = "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"
BAD_REQUEST_WRONG_ACTION = "Bad Request: wrong parameter action in request"
BAD_REQUEST_FILE_EMPTY = "Bad Request: file must be non-empty"
BAD_REQUEST_WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"
BAD_REQUEST_IMAGE_FAILED = "Bad Request: IMAGE_PROCESS_FAILED"
BAD_REQUEST_PARSE_MODE = "Bad Request: unsupported parse_mode"
BAD_REQUEST_PARSE_ENTITIES = "Bad Request: can't parse entities: "
CONFLICT_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_OTHER_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
CHAT_ACTIONS = frozenset(
    [
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    ]
)

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

_INT_PARAMS = frozenset(
    [
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "max_connections",
        "from_chat_id",
    ]
)
_BOOL_PARAMS = frozenset(
    [
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "show_caption_above_media",
    ]
)
_JSON_PARAMS = frozenset(
    [
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
    ]
)


class FakeApiError(Exception):
    """A Bot API error response (HTTP status + Telegram description)."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        """Store the error code, description and optional retry_after."""
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def too_many_requests(retry_after: int) -> str:
    """Return Telegram's 429 description for the given retry_after."""
    return f"Too Many Requests: retry after {retry_after}"


@dataclass
class FakeMessage:
    """One message in a fake private chat, sent either by the bot or by the user."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    kind: str = "text"
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    entities: list[dict[str, Any]] | None = None
    reply_markup: dict[str, Any] | None = None
    file_bytes: bytes | None = None
    filename: str | None = None
    mime_type: str | None = None
    file_id: str | None = None
    location: tuple[float, float] | None = None
    reply_to_message_id: int | None = None
    sender: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    edits: list[str | None] = field(default_factory=list)
    edit_date: int | None = None
    version: int = 0

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """Return the inline keyboard rows (empty if the message has none)."""
        if not self.reply_markup:
            return []
        return list(self.reply_markup.get("inline_keyboard", []))

    @property
    def buttons(self) -> list[list[str]]:
        """Return the inline button labels row by row."""
        return [[str(button.get("text", "")) for button in row] for row in self.inline_keyboard]

    def find_button(self, label: str) -> dict[str, Any]:
        """Find a button by exact, then case-insensitive, then unique-substring label match."""
        flat = [button for row in self.inline_keyboard for button in row]
        for matches in (
            [b for b in flat if b.get("text") == label],
            [b for b in flat if str(b.get("text", "")).casefold() == label.casefold()],
            [b for b in flat if label.casefold() in str(b.get("text", "")).casefold()],
        ):
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise AssertionError(
                    f"Button label {label!r} is ambiguous in message #{self.message_id}: "
                    f"{[b.get('text') for b in matches]}; all buttons: {self.buttons}"
                )
        raise AssertionError(
            f"No button {label!r} in message #{self.message_id} ({self.text!r}); "
            f"available buttons: {self.buttons}"
        )

    def button_data(self, label: str) -> str:
        """Return the callback_data of the button matching label."""
        data = self.find_button(label).get("callback_data")
        if data is None:
            raise AssertionError(f"Button {label!r} has no callback_data")
        return str(data)

    def describe(self) -> str:
        """Return a one-line human readable summary of the message."""
        who = "bot" if self.from_bot else "user"
        body = self.text if self.text is not None else ""
        if self.kind == "location" and self.location:
            body = f"<location {self.location[0]}, {self.location[1]}>"
        elif self.kind in ("photo", "document"):
            body = f"<{self.kind} {self.filename}> {body}".rstrip()
        extra = f" buttons={self.buttons}" if self.inline_keyboard else ""
        flags = " (deleted)" if self.deleted else ""
        return f"#{self.message_id} {who}: {body!r}{extra}{flags}"


@dataclass
class ApiCall:
    """One recorded Bot API call with its normalised params and the response sent."""

    method: str
    params: Params
    status: int
    response: dict[str, Any]
    files: Files = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Return True when the call succeeded."""
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        """Return the result payload (None for errors)."""
        return self.response.get("result")


@dataclass
class CallbackQueryRecord:
    """A callback query produced by a user tap and the bot's answer to it."""

    query_id: str
    chat_id: int
    user_id: int
    message_id: int | None
    data: str
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None


@dataclass
class StoredFile:
    """An uploaded file known to the fake server by its file_id."""

    file_id: str
    file_unique_id: str
    content: bytes
    filename: str
    mime_type: str
    width: int = 0
    height: int = 0


@dataclass
class _Fault:
    """An injected error waiting to be returned for a matching call."""

    method: str
    code: int
    description: str
    retry_after: int | None
    chat_id: int | None
    times: int


# --------------------------------------------------------------------------- formatting


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 code units (how Telegram counts)."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    """Return the UTF-8 byte offset of a character index (Telegram error positions)."""
    return len(text[:index].encode("utf-8"))


def _parse_error(detail: str) -> FakeApiError:
    """Build a 400 "can't parse entities" error."""
    return FakeApiError(400, BAD_REQUEST_PARSE_ENTITIES + detail)


_HTML_TAGS = frozenset(
    [
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    ]
)


class _HtmlRenderer(HTMLParser):
    """Validate Telegram-flavoured HTML and collect the displayed plain text."""

    def __init__(self, text: str) -> None:
        """Prepare to parse text."""
        super().__init__(convert_charrefs=True)
        self._text = text
        self._out: list[str] = []
        self._stack: list[str] = []
        self._line_starts = [0]
        for line in text.split("\n")[:-1]:
            self._line_starts.append(self._line_starts[-1] + len(line) + 1)

    def _offset(self) -> int:
        """Return the byte offset of the tag being handled."""
        line, column = self.getpos()
        return _byte_offset(self._text, self._line_starts[line - 1] + column)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Accept only tags Telegram supports."""
        if tag not in _HTML_TAGS:
            raise _parse_error(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        if tag == "span" and ("class", "tg-spoiler") not in attrs:
            raise _parse_error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self._offset()}'
            )
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        """Require properly nested end tags."""
        if not self._stack:
            raise _parse_error(f'Unexpected end tag "{tag}" at byte offset {self._offset()}')
        if self._stack[-1] != tag:
            raise _parse_error(
                f"Unmatched end tag at byte offset {self._offset()}, "
                f'expected "</{self._stack[-1]}>", found "</{tag}>"'
            )
        self._stack.pop()

    def handle_data(self, data: str) -> None:
        """Collect displayed text."""
        self._out.append(data)

    def render(self) -> str:
        """Parse the whole text and return the plain text."""
        self.feed(self._text)
        self.close()
        if self._stack:
            raise _parse_error(
                f'Can\'t find end tag corresponding to start tag "{self._stack[-1]}"'
            )
        return "".join(self._out)


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_ENTITY_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
}


def _find_unescaped(text: str, needle: str, start: int) -> int:
    """Return the index of needle at or after start, skipping backslash escapes; -1 if none."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def _unescape_v2(text: str) -> str:
    """Remove MarkdownV2 backslash escapes."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _render_markdown_v2(text: str) -> str:
    """Validate MarkdownV2 (reserved characters, unclosed entities) and return plain text."""
    out: list[str] = []
    stack: list[tuple[str, int]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text):
                raise _parse_error(
                    "Character '\\' is reserved and must be escaped with the preceding '\\'"
                )
            out.append(text[i + 1])
            i += 2
        elif char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = _find_unescaped(text, fence, i + len(fence))
            if end < 0:
                name = "Pre" if fence == "```" else "Code"
                raise _parse_error(
                    f"Can't find end of {name} entity at byte offset {_byte_offset(text, i)}"
                )
            body = text[i + len(fence) : end]
            if fence == "```" and "\n" in body and " " not in body.split("\n", 1)[0]:
                body = body.split("\n", 1)[1]
            out.append(_unescape_v2(body))
            i = end + len(fence)
        elif char in "*_~" or text.startswith("||", i):
            marker = "__" if text.startswith("__", i) else "||" if char == "|" else char
            if stack and stack[-1][0] == marker:
                stack.pop()
            else:
                stack.append((marker, i))
            i += len(marker)
        elif char == "[" or text.startswith("![", i):
            stack.append(("[", i))
            i += 1 if char == "[" else 2
        elif char == "]" and stack and stack[-1][0] == "[":
            stack.pop()
            i += 1
            if text.startswith("(", i):
                end = _find_unescaped(text, ")", i + 1)
                if end < 0:
                    raise _parse_error(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, i)}"
                    )
                i = end + 1
        elif char == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1
        elif char in _MDV2_RESERVED:
            raise _parse_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.append(char)
            i += 1
    if stack:
        marker, start = stack[-1]
        raise _parse_error(
            f"Can't find end of {_MDV2_ENTITY_NAMES[marker]} entity at byte offset "
            f"{_byte_offset(text, start)}"
        )
    return "".join(out)


def _render_markdown_legacy(text: str) -> str:
    """Validate legacy Markdown (unclosed *, _, `, [) and return plain text."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            out.append(text[i + 1])
            i += 2
            continue
        if char not in "*_`[":
            out.append(char)
            i += 1
            continue
        closer = "```" if text.startswith("```", i) else "]" if char == "[" else char
        end = text.find(closer, i + len(closer) if closer != "]" else i + 1)
        if end < 0 or (char == "[" and not text.startswith("(", end + 1)):
            raise _parse_error(
                f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
            )
        out.append(text[i + (1 if closer == "]" else len(closer)) : end])
        if char == "[":
            url_end = text.find(")", end + 2)
            if url_end < 0:
                raise _parse_error(
                    f"Can't find end of the entity starting at byte offset {_byte_offset(text, i)}"
                )
            i = url_end + 1
        else:
            i = end + len(closer)
    return "".join(out)


def render_text(text: str, parse_mode: str | None) -> str:
    """Return the plain text Telegram would display, validating the markup like Telegram."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text
    if mode == "html":
        return _HtmlRenderer(text).render()
    if mode == "markdownv2":
        return _render_markdown_v2(text)
    if mode == "markdown":
        return _render_markdown_legacy(text)
    raise FakeApiError(400, BAD_REQUEST_PARSE_MODE)


# --------------------------------------------------------------------------- params & files


def normalise_params(params: Mapping[str, Any]) -> Params:
    """Convert form-encoded Bot API params (all strings) to typed Python values."""
    out: Params = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        if key in _JSON_PARAMS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                detail = BAD_REQUEST_MARKUP_JSON if key == "reply_markup" else ""
                raise FakeApiError(
                    400, detail or f"Bad Request: can't parse {key} JSON object"
                ) from None
        elif key in _INT_PARAMS and isinstance(value, str):
            if re.fullmatch(r"-?\d+", value.strip()):
                value = int(value)
            elif key != "chat_id":
                raise FakeApiError(400, f"Bad Request: wrong parameter {key} in request")
        elif key == "timeout" and isinstance(value, str):
            try:
                value = float(value)  # PTB sends float timeouts verbatim ("0.5")
            except ValueError:
                raise FakeApiError(400, "Bad Request: wrong parameter timeout in request") from None
        elif key in _BOOL_PARAMS and isinstance(value, str):
            value = value.strip().lower() in ("true", "1")
        out[key] = value
    return out


def image_size(data: bytes) -> tuple[int, int] | None:
    """Return (width, height) of a PNG/JPEG/GIF/BMP/WEBP image, or None if not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"BM") and len(data) >= 26:
        width, height = struct.unpack("<ii", data[18:26])
        return abs(int(width)), abs(int(height))
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return 512, 512
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Return the size stored in a JPEG SOF segment."""
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01, 0xFF) or 0xD0 <= marker <= 0xD7:
            i += 1 if marker == 0xFF else 2
            continue
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return None


def _bot_id_from_token(token: str) -> int:
    """Return the numeric bot id encoded before the colon of a bot token."""
    prefix = token.split(":", 1)[0]
    return int(prefix) if prefix.isdigit() else 123456789


# --------------------------------------------------------------------------- the fake


class FakeTelegram:
    """Stateful in-memory Telegram Bot API: chats, updates, callbacks and injected faults."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_BOT_USERNAME,
        clock: Callable[[], float] = time.time,
        *,
        bot_first_name: str = "Band Coach",
        strict_chats: bool = False,
    ) -> None:
        """Create an empty fake Telegram for one bot token."""
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.bot_id = _bot_id_from_token(token)
        self.clock = clock
        self.strict_chats = strict_chats
        self.validate_formatting = True
        self.on_update: UpdateCallback | None = None
        self.calls: list[ApiCall] = []
        self.updates: list[dict[str, Any]] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.files: dict[str, StoredFile] = {}
        self.webhook_url = ""
        self.version = 0
        self._history: dict[int, list[FakeMessage]] = {}
        self._pending: list[dict[str, Any]] = []
        self._answer_order: list[str] = []
        self._last_user_action: dict[int, int] = {}
        self._faults: list[_Fault] = []
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
            handler = self._handlers.get(name.lower())
            if handler is None:
                raise FakeApiError(404, NOT_FOUND)
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
        return status, json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def calls_to(self, method: str) -> list[ApiCall]:
        """Return recorded calls of one method (case-insensitive)."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        code: int,
        description: str,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` matching calls ("*" = any method) fail with this error."""
        self._faults.append(_Fault(method.lower(), code, description, retry_after, chat_id, times))

    def flood(
        self, method: str, retry_after: int = 3, chat_id: int | None = None, times: int = 1
    ) -> None:
        """Make the next matching calls fail with 429 Too Many Requests."""
        self.fail_next(
            method,
            code=429,
            description=too_many_requests(retry_after),
            retry_after=retry_after,
            chat_id=chat_id,
            times=times,
        )

    def server_error(self, method: str, times: int = 1) -> None:
        """Make the next matching calls fail with 500 Internal Server Error."""
        self.fail_next(method, code=500, description=INTERNAL_SERVER_ERROR, times=times)

    def clear_faults(self) -> None:
        """Drop all pending injected errors."""
        self._faults.clear()

    def block_user(self, chat_id: int) -> None:
        """Simulate the user blocking the bot: sends/edits to the chat get 403."""
        self.blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        """Undo block_user."""
        self.blocked.discard(chat_id)

    def _take_fault(self, method: str, params: Params) -> _Fault | None:
        """Consume and return the first injected fault matching this call."""
        for fault in self._faults:
            if fault.method not in (method, "*"):
                continue
            if fault.chat_id is not None and self._chat_of(params) != fault.chat_id:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            return fault
        return None

    def _chat_of(self, params: Params) -> int | None:
        """Return the chat a call targets (via chat_id or callback_query_id)."""
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            return chat_id
        query = self.callback_queries.get(str(params.get("callback_query_id")))
        return query.chat_id if query else None

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
        return [msg for msg in self.chat(chat_id) if msg.from_bot]

    def last_bot_message(self, chat_id: int) -> FakeMessage:
        """Return the bot's latest visible message in a chat (AssertionError if none)."""
        messages = self.bot_messages(chat_id)
        if not messages:
            raise AssertionError(f"No bot messages in chat {chat_id}.\n{self.describe(chat_id)}")
        return messages[-1]

    def last_keyboard_message(self, chat_id: int) -> FakeMessage:
        """Return the bot's latest visible message that carries an inline keyboard."""
        for msg in reversed(self.bot_messages(chat_id)):
            if msg.inline_keyboard:
                return msg
        raise AssertionError(
            f"No bot message with an inline keyboard in chat {chat_id}.\n{self.describe(chat_id)}"
        )

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
        """Bump the state version and wake every waiter."""
        self.version += 1
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def _record(
        self, method: str, params: Params, status: int, body: dict[str, Any], files: Files
    ) -> None:
        """Append an ApiCall and notify waiters."""
        self.calls.append(ApiCall(method, params, status, body, files))
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
        update = {"update_id": self._next_update_id, **copy.deepcopy(dict(payload))}
        self._next_update_id += 1
        self.updates.append(update)
        if self.on_update is not None:
            self._notify()
            await self.on_update(copy.deepcopy(update))
        else:
            self._pending.append(update)
            self._notify()
        return update

    def _mark_user_action(self, chat_id: int) -> None:
        """Remember the state version of the user's latest action in a chat."""
        self._notify()
        self._last_user_action[chat_id] = self.version

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
                data["entities"] = copy.deepcopy(msg.entities)
        elif msg.kind == "location" and msg.location:
            data["location"] = {"latitude": msg.location[0], "longitude": msg.location[1]}
        elif msg.kind in ("photo", "document"):
            data.update(self._media_json(msg))
            if msg.text is not None:
                data["caption"] = msg.text
                if msg.entities:
                    data["caption_entities"] = copy.deepcopy(msg.entities)
        if msg.inline_keyboard:
            data["reply_markup"] = copy.deepcopy(msg.reply_markup)
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
            message_id=len(history) + 1,
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

    def _render(self, value: Any, parse_mode: Any, *, caption: bool) -> tuple[str | None, Any]:
        """Validate text/caption and return (displayed text, raw text)."""
        if value is None or value == "":
            if caption:
                return None, None
            raise FakeApiError(400, BAD_REQUEST_TEXT_EMPTY)
        raw = str(value)
        shown = render_text(raw, parse_mode) if self.validate_formatting else raw
        shown = shown.strip()
        if not shown:
            if caption:
                return None, raw
            raise FakeApiError(400, BAD_REQUEST_TEXT_EMPTY)
        if utf16_len(shown) > (MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH):
            raise FakeApiError(
                400, BAD_REQUEST_CAPTION_TOO_LONG if caption else BAD_REQUEST_TEXT_TOO_LONG
            )
        return shown, raw

    def _markup(self, value: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
        """Validate a reply_markup value like Telegram and return it as a dict."""
        if value is None:
            return None
        if not isinstance(value, dict):
            raise FakeApiError(400, BAD_REQUEST_MARKUP_JSON)
        if "inline_keyboard" not in value:
            if inline_only:
                raise FakeApiError(400, BAD_REQUEST_INLINE_EXPECTED)
            if not {"keyboard", "remove_keyboard", "force_reply"} & value.keys():
                raise FakeApiError(400, BAD_REQUEST_MARKUP_JSON)
            return copy.deepcopy(value)
        rows = value["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise FakeApiError(
                400,
                'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be '
                "an Array of Arrays",
            )
        for button in (button for row in rows for button in row):
            self._check_button(button)
        return copy.deepcopy(value)

    @staticmethod
    def _check_button(button: Any) -> None:
        """Validate one inline keyboard button."""
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise FakeApiError(
                400,
                'Bad Request: can\'t parse inline keyboard button: Field "text" must be '
                "of type String",
            )
        if not set(button) - {"text"}:
            raise FakeApiError(400, BAD_REQUEST_TEXT_BUTTON)
        if "callback_data" in button:
            data = button["callback_data"]
            size = len(data.encode("utf-8")) if isinstance(data, str) else 0
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                raise FakeApiError(400, BAD_REQUEST_BUTTON_DATA_INVALID)
        if "url" in button:
            url = button["url"]
            if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
                raise FakeApiError(400, BAD_REQUEST_BUTTON_URL_INVALID)

    def _reply_to(self, chat_id: int, params: Params) -> int | None:
        """Resolve reply_parameters / reply_to_message_id to an existing message id."""
        reply = params.get("reply_parameters")
        message_id = params.get("reply_to_message_id")
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply", allow_missing))
        if message_id is None:
            return None
        target = self._find(chat_id, int(message_id))
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise FakeApiError(400, BAD_REQUEST_REPLY_NOT_FOUND)
        return int(message_id)

    def _own_message(self, chat_id: int, params: Params) -> FakeMessage:
        """Return the bot message addressed by an edit call."""
        if params.get("inline_message_id") is not None:
            raise FakeApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise FakeApiError(400, "Bad Request: message identifier is not specified")
        msg = self._find(chat_id, message_id)
        if msg is None or msg.deleted:
            raise FakeApiError(400, BAD_REQUEST_EDIT_NOT_FOUND)
        if not msg.from_bot:
            raise FakeApiError(400, BAD_REQUEST_CANT_EDIT)
        return msg

    def _store_upload(self, field_name: str, params: Params, files: Files) -> StoredFile:
        """Resolve an uploaded file, attach:// reference or known file_id."""
        value = params.get(field_name)
        upload: tuple[str, bytes] | None = None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        elif field_name in files:
            upload = files[field_name]
        elif isinstance(value, str) and value:
            if value in self.files:
                return self.files[value]
            if value.startswith(("http://", "https://")):
                raise FakeApiError(400, "Bad Request: failed to get HTTP URL content")
            raise FakeApiError(400, BAD_REQUEST_WRONG_FILE_ID)
        if upload is None:
            raise FakeApiError(400, f"Bad Request: there is no {field_name} in the request")
        filename, content = upload
        if not content:
            raise FakeApiError(400, BAD_REQUEST_FILE_EMPTY)
        width = height = 0
        if field_name == "photo":
            size = image_size(content)
            if size is None:
                raise FakeApiError(400, BAD_REQUEST_IMAGE_FAILED)
            width, height = size
        serial = self._serial()
        stored = StoredFile(
            file_id=f"Fake{field_name.capitalize()}{serial:08d}AAAA",
            file_unique_id=f"FakeU{serial:08d}",
            content=content,
            filename=filename,
            mime_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self.files[f"{stored.file_id}-s"] = stored
        return stored

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        """Return the storage key for a command scope + language."""
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    # ------------------------------------------------------------------ method handlers

    async def _ok(self, params: Params, files: Files) -> bool:
        """Handle methods that simply succeed (close, logOut)."""
        return True

    async def _get_me(self, params: Params, files: Files) -> dict[str, Any]:
        """Handle getMe."""
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _send_message(self, params: Params, files: Files) -> dict[str, Any]:
        """Handle sendMessage."""
        chat_id = self._writable_chat(params)
        text, raw = self._render(params.get("text"), params.get("parse_mode"), caption=False)
        markup = self._markup(params.get("reply_markup"))
        msg = self._add_message(
            chat_id,
            from_bot=True,
            text=text,
            raw_text=raw,
            parse_mode=params.get("parse_mode"),
            entities=params.get("entities"),
            reply_markup=markup,
            reply_to_message_id=self._reply_to(chat_id, params),
        )
        return self.message_json(msg)

    async def _send_media(self, kind: str, params: Params, files: Files) -> dict[str, Any]:
        """Handle sendPhoto / sendDocument."""
        chat_id = self._writable_chat(params)
        caption, raw = self._render(params.get("caption"), params.get("parse_mode"), caption=True)
        markup = self._markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat_id, params)
        stored = self._store_upload(kind, params, files)
        msg = self._add_message(
            chat_id,
            from_bot=True,
            kind=kind,
            text=caption,
            raw_text=raw,
            parse_mode=params.get("parse_mode"),
            entities=params.get("caption_entities"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
            file_bytes=stored.content,
            filename=stored.filename,
            mime_type=stored.mime_type,
            file_id=stored.file_id,
        )
        return self.message_json(msg)

    async def _send_photo(self, params: Params, files: Files) -> dict[str, Any]:
        """Handle sendPhoto."""
        return await self._send_media("photo", params, files)

    async def _send_document(self, params: Params, files: Files) -> dict[str, Any]:
        """Handle sendDocument."""
        return await self._send_media("document", params, files)

    async def _edit_message_text(self, params: Params, files: Files) -> dict[str, Any]:
        """Handle editMessageText (omitting reply_markup removes the keyboard)."""
        chat_id = self._writable_chat(params)
        msg = self._own_message(chat_id, params)
        if msg.kind != "text":
            raise FakeApiError(400, BAD_REQUEST_NO_TEXT_TO_EDIT)
        return self._apply_edit(msg, params, params.get("entities"), caption=False)

    async def _edit_message_caption(self, params: Params, files: Files) -> dict[str, Any]:
        """Handle editMessageCaption."""
        chat_id = self._writable_chat(params)
        msg = self._own_message(chat_id, params)
        if msg.kind not in ("photo", "document"):
            raise FakeApiError(400, BAD_REQUEST_NO_CAPTION_TO_EDIT)
        return self._apply_edit(msg, params, params.get("caption_entities"), caption=True)

    def _apply_edit(
        self, msg: FakeMessage, params: Params, entities: Any, *, caption: bool
    ) -> dict[str, Any]:
        """Apply a text/caption edit, rejecting no-op edits like Telegram."""
        value = params.get("caption" if caption else "text")
        text, raw = self._render(value, params.get("parse_mode"), caption=caption)
        markup = self._markup(params.get("reply_markup"), inline_only=True)
        current = (msg.text, msg.raw_text, msg.entities, msg.reply_markup)
        if (text, raw, entities, markup) == current:
            raise FakeApiError(400, BAD_REQUEST_NOT_MODIFIED)
        if (text, raw) != (msg.text, msg.raw_text):
            msg.edits.append(msg.text)
            msg.edit_date = int(self.clock())
        msg.text, msg.raw_text, msg.entities = text, raw, entities
        msg.parse_mode = params.get("parse_mode")
        msg.reply_markup = markup
        self._touch(msg)
        return self.message_json(msg)

    async def _edit_message_reply_markup(self, params: Params, files: Files) -> dict[str, Any]:
        """Handle editMessageReplyMarkup."""
        chat_id = self._writable_chat(params)
        msg = self._own_message(chat_id, params)
        markup = self._markup(params.get("reply_markup"), inline_only=True)
        if markup == msg.reply_markup:
            raise FakeApiError(400, BAD_REQUEST_NOT_MODIFIED)
        msg.reply_markup = markup
        self._touch(msg)
        return self.message_json(msg)

    async def _delete_message(self, params: Params, files: Files) -> bool:
        """Handle deleteMessage (bots may delete both sides of a private chat)."""
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        msg = self._find(chat_id, message_id) if isinstance(message_id, int) else None
        if msg is None or msg.deleted:
            raise FakeApiError(400, BAD_REQUEST_DELETE_NOT_FOUND)
        msg.deleted = True
        self._touch(msg)
        return True

    async def _answer_callback_query(self, params: Params, files: Files) -> bool:
        """Handle answerCallbackQuery (each query may be answered once)."""
        query = self.callback_queries.get(str(params.get("callback_query_id")))
        if query is None or query.answered:
            raise FakeApiError(400, BAD_REQUEST_QUERY_TOO_OLD)
        query.answered = True
        query.text = params.get("text")
        query.show_alert = bool(params.get("show_alert", False))
        query.url = params.get("url")
        query.cache_time = params.get("cache_time")
        self._answer_order.append(query.query_id)
        return True

    async def _set_my_commands(self, params: Params, files: Files) -> bool:
        """Handle setMyCommands with Telegram's command validation."""
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise FakeApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise FakeApiError(400, BAD_REQUEST_COMMAND_INVALID)
            description = command.get("description")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise FakeApiError(400, BAD_REQUEST_COMMAND_DESCRIPTION_INVALID)
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self.commands[key] = copy.deepcopy(commands)
        return True

    async def _get_my_commands(self, params: Params, files: Files) -> list[dict[str, Any]]:
        """Handle getMyCommands."""
        return self.my_commands(params.get("scope"), params.get("language_code") or "")

    async def _delete_my_commands(self, params: Params, files: Files) -> bool:
        """Handle deleteMyCommands."""
        key = self._commands_key(params.get("scope"), params.get("language_code"))
        self.commands.pop(key, None)
        return True

    async def _send_chat_action(self, params: Params, files: Files) -> bool:
        """Handle sendChatAction."""
        chat_id = self._writable_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise FakeApiError(400, BAD_REQUEST_WRONG_ACTION)
        self.chat_actions.append((chat_id, str(params["action"])))
        return True

    async def _get_updates(self, params: Params, files: Files) -> list[dict[str, Any]]:
        """Handle getUpdates: confirm by offset, then long-poll up to `timeout` seconds."""
        if self.webhook_url:
            raise FakeApiError(409, CONFLICT_WEBHOOK_ACTIVE)
        offset = int(params.get("offset") or 0)
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        self._poll_generation += 1
        generation, interrupts = self._poll_generation, self._interrupts
        if timeout > 0 and not self._pending:
            self.waiting_polls += 1
            self._notify()
            try:
                await self._wait(
                    lambda: (
                        bool(self._pending)
                        or generation != self._poll_generation
                        or interrupts != self._interrupts
                    ),
                    timeout,
                )
            finally:
                self.waiting_polls -= 1
                self._notify()
        else:
            self._notify()
        if generation != self._poll_generation:
            raise FakeApiError(409, CONFLICT_OTHER_GET_UPDATES)
        return copy.deepcopy(self._pending[:limit])

    async def _delete_webhook(self, params: Params, files: Files) -> bool:
        """Handle deleteWebhook (optionally dropping pending updates)."""
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _set_webhook(self, params: Params, files: Files) -> bool:
        """Handle setWebhook (stored only; updates are never pushed)."""
        self.webhook_url = str(params.get("url") or "")
        if self.webhook_url and params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _get_webhook_info(self, params: Params, files: Files) -> dict[str, Any]:
        """Handle getWebhookInfo."""
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
