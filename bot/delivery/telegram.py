"""One Bot API call for a screen, with Telegram's answer sorted into what to do next."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

import httpx
import orjson
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

from bot.coaching.screen import PHOTO, Attachment, Screen

# raw() calls known methods raw on purpose; PTB would warn about each call.
warnings.filterwarnings(
    "ignore", message=r"Please use 'Bot\.\w+' instead of", category=PTBUserWarning
)

# Telegram's wording when a message can no longer be edited: send the screen anew instead.
GONE_MARKERS = ("message to edit not found", "message can't be edited", "message_id_invalid")


class Kind(Enum):
    """How one call ended."""

    SHOWN = "shown"  # Telegram shows the screen (also: it already did, "not modified")
    RETRY = "retry"  # 429, 5xx, a dropped connection or an edit that timed out: safe to retry
    UNSURE = "unsure"  # a new message timed out: Telegram may or may not have delivered it
    BLOCKED = "blocked"  # 403: the member blocked the bot
    GONE = "gone"  # the message to edit is gone or too old: send a new one
    FAILED = "failed"  # any other refusal: retrying cannot help
    DROPPED = "dropped"  # a countdown tick the rate budget had no room for


@dataclass(frozen=True)
class Result:
    """The outcome of one call."""

    kind: Kind
    message_id: int | None = None
    wait: float = 0.0  # seconds Telegram asked us to wait (429)
    detail: str = ""


def markup(screen: Screen | Attachment) -> InlineKeyboardMarkup | None:
    """Return a screen's buttons as Telegram's inline keyboard (None when it has none)."""
    if not screen.keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in screen.keyboard
        ]
    )


def maybe_delivered(exc: NetworkError) -> bool:
    """Return True if the request may have reached Telegram before the failure.

    A connection that was never made (refused, or timed out connecting or waiting for the
    pool) sent nothing, so a retry cannot duplicate; a read or write that failed half-way might.
    A 5xx answer means Telegram did not take the message.
    """
    cause = exc.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return False
    return isinstance(exc, TimedOut) or isinstance(cause, httpx.TransportError)


def retry_seconds(exc: RetryAfter) -> float:
    """Return retry_after in seconds, whether PTB gives an int or (later) a timedelta."""
    with warnings.catch_warnings():  # PTB 22 warns that the type will become timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def raw(bot: Bot, method: str, chat_id: int, screen: Screen, **more: Any) -> Any:
    """Call sendMessage or editMessageText with a screen and return Telegram's raw answer.

    Only the message id is ever read back, and turning the answer into a Message object was a
    tenth of an update's CPU; building the keyboard as PTB objects cost a twentieth more.
    """
    kwargs: dict[str, Any] = {"chat_id": chat_id, "text": screen.text, **more}
    if screen.keyboard:  # already JSON, as PTB would send it: no button objects to build
        rows = [
            [{"text": b.label, "callback_data": b.data} for b in row] for row in screen.keyboard
        ]
        kwargs["reply_markup"] = orjson.dumps({"inline_keyboard": rows}).decode()
    return await bot.do_api_request(method, api_kwargs=kwargs)


async def _send(bot: Bot, chat_id: int, screen: Screen | Attachment) -> int:
    """Send a screen or a file as a new message and return its id."""
    if isinstance(screen, Screen):
        return int((await raw(bot, "sendMessage", chat_id, screen))["message_id"])
    send = bot.send_photo if screen.kind == PHOTO else bot.send_document
    sent = await send(
        chat_id, InputFile(screen.data, filename=screen.filename),
        caption=screen.caption or None, reply_markup=markup(screen),
    )  # fmt: skip
    return sent.message_id


async def show(
    bot: Bot, chat_id: int, message_id: int | None, screen: Screen | Attachment
) -> Result:
    """Send a screen or file as a new message, or edit a screen into `message_id`; classify."""
    try:
        if message_id is None or not isinstance(screen, Screen):
            return Result(Kind.SHOWN, await _send(bot, chat_id, screen))
        await raw(bot, "editMessageText", chat_id, screen, message_id=message_id)
        return Result(Kind.SHOWN, message_id)
    except RetryAfter as exc:
        return Result(Kind.RETRY, wait=retry_seconds(exc), detail="429")
    except Forbidden as exc:
        return Result(Kind.BLOCKED, detail=exc.message)
    except BadRequest as exc:  # a NetworkError subclass in PTB, so it is caught first
        text = exc.message.lower()
        if "not modified" in text:
            return Result(Kind.SHOWN, message_id)
        if message_id is not None and any(marker in text for marker in GONE_MARKERS):
            return Result(Kind.GONE, detail=exc.message)
        return Result(Kind.FAILED, detail=f"400: {exc.message}")
    except NetworkError as exc:  # timeouts, 5xx, refused or dropped connections
        maybe_sent = message_id is None and maybe_delivered(exc)
        return Result(Kind.UNSURE if maybe_sent else Kind.RETRY, detail=exc.message)
    except TelegramError as exc:
        return Result(Kind.FAILED, detail=exc.message)
