"""The Bot API methods the fake implements, one handler each."""

from __future__ import annotations

import copy
import re
from typing import Any

from .errors import (
    BAD_REQUEST_COMMAND_DESCRIPTION_INVALID,
    BAD_REQUEST_COMMAND_INVALID,
    BAD_REQUEST_DELETE_NOT_FOUND,
    BAD_REQUEST_NO_CAPTION_TO_EDIT,
    BAD_REQUEST_NO_TEXT_TO_EDIT,
    BAD_REQUEST_NOT_MODIFIED,
    BAD_REQUEST_QUERY_TOO_OLD,
    BAD_REQUEST_WRONG_ACTION,
    CONFLICT_OTHER_GET_UPDATES,
    CONFLICT_WEBHOOK_ACTIVE,
    FakeApiError,
)
from .limits import CHAT_ACTIONS
from .models import FakeMessage
from .validation import RequestChecks
from .wire import Files, Params


class BotApiMethods(RequestChecks):
    """Handlers for each Bot API method, by (params, files); mixed into FakeTelegram."""

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
