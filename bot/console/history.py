"""The console's chat history on disk: Telegram keeps a chat, so `bandcoach chat` does too.

The last messages of the chat are written next to the clock file when a chat ends and put back
into the fake Telegram when the next one starts, under their own message ids: the session's
message (its id is stored in the database) then still has its live buttons, and the bot edits
it in place as before. Files (charts, exports) are not kept; the console saved them already.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from bot.fake_telegram import FakeMessage

logger = logging.getLogger(__name__)

KEEP = 30  # messages kept: enough to see where you were, short enough to read
_SKIPPED = {"file_bytes", "edits", "version", "sender"}
_FIELDS = {f.name for f in fields(FakeMessage)} - _SKIPPED


def history_path(folder: Path, user_id: int) -> Path:
    """Return the history file of one user's chat in the console's data folder."""
    return folder / f"chat-history-{user_id}.json"


def save_history(path: Path, messages: list[FakeMessage]) -> None:
    """Write the last messages of a chat; a failure is logged, never raised."""
    kept = [{k: v for k, v in asdict(m).items() if k in _FIELDS} for m in messages[-KEEP:]]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"messages": kept}, ensure_ascii=False), "utf-8")
        temporary.replace(path)  # a chat killed mid-write keeps the previous history
    except (OSError, TypeError, ValueError):
        logger.warning("Could not save the chat history to %s", path, exc_info=True)


def load_history(path: Path, chat_id: int) -> list[FakeMessage]:
    """Return the saved messages of a chat, oldest first; [] if there are none or they are bad."""
    try:
        data: Any = json.loads(path.read_text("utf-8"))
        messages = [_message(item) for item in data["messages"]]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError):
        logger.warning("Ignoring an unreadable chat history file %s", path)
        return []
    ids = [m.message_id for m in messages]
    if any(m.chat_id != chat_id for m in messages) or ids != sorted(set(ids)):
        logger.warning("Ignoring a chat history file of another chat: %s", path)
        return []
    return messages


def _message(item: Any) -> FakeMessage:
    """Return one saved message, refusing anything that is not one."""
    if not isinstance(item, dict) or not set(item) <= _FIELDS:
        raise ValueError("not a saved message")
    message = FakeMessage(**item)
    if not isinstance(message.message_id, int) or not isinstance(message.chat_id, int):
        raise ValueError("a saved message needs whole-number ids")
    if message.location is not None:
        message.location = (float(message.location[0]), float(message.location[1]))
    return message
