"""Checks Telegram applies to outgoing calls: text, markup, buttons, replies and uploads."""

from __future__ import annotations

import mimetypes
from typing import Any

from .chats import ChatStore
from .errors import (
    BAD_REQUEST_BUTTON_DATA_INVALID,
    BAD_REQUEST_BUTTON_URL_INVALID,
    BAD_REQUEST_CANT_EDIT,
    BAD_REQUEST_CAPTION_TOO_LONG,
    BAD_REQUEST_EDIT_NOT_FOUND,
    BAD_REQUEST_FILE_EMPTY,
    BAD_REQUEST_IMAGE_FAILED,
    BAD_REQUEST_INLINE_EXPECTED,
    BAD_REQUEST_MARKUP_JSON,
    BAD_REQUEST_REPLY_NOT_FOUND,
    BAD_REQUEST_TEXT_BUTTON,
    BAD_REQUEST_TEXT_EMPTY,
    BAD_REQUEST_TEXT_TOO_LONG,
    BAD_REQUEST_WRONG_FILE_ID,
    FakeApiError,
)
from .formatting import render_text, utf16_len
from .limits import MAX_CALLBACK_DATA_BYTES, MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH
from .models import FakeMessage, StoredFile
from .wire import Files, Params, image_size, json_copy


class RequestChecks(ChatStore):
    """Validate what the bot sends the way Telegram does; mixed into FakeTelegram."""

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
            return json_copy(value)
        rows = value["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise FakeApiError(
                400,
                'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be '
                "an Array of Arrays",
            )
        for button in (button for row in rows for button in row):
            self._check_button(button)
        return json_copy(value)

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
