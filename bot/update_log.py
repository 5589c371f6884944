"""One structured log line per update: id, hashed member, handler, latency and outcome.

The line never carries message text, the token or the webhook secret. The member id is hashed
with a key only this deployment knows, so a log reader can follow one member without learning
who it is, and a leaked log cannot be matched to Telegram ids by trying them all.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, cast

from telegram import Update
from telegram.ext import Application

logger = logging.getLogger("bot.updates")

OK, ERROR, UNHANDLED = "ok", "error", "unhandled"
_handler: ContextVar[str | None] = ContextVar("bandcoach_handler", default=None)
_outcome: ContextVar[str] = ContextVar("bandcoach_outcome", default=OK)

Callback = TypeVar("Callback", bound=Callable[..., Awaitable[Any]])


def named(callback: Callback) -> Callback:
    """Wrap a handler callback so the update's log line names it."""
    name = f"{callback.__module__.rsplit('.', 1)[-1]}.{callback.__name__}"

    @wraps(callback)
    async def run(*args: Any, **kwargs: Any) -> Any:
        _handler.set(name)
        return await callback(*args, **kwargs)

    return cast(Callback, run)


def failed() -> None:
    """Mark the update being processed as failed (called by the error handler)."""
    _outcome.set(ERROR)


def member_hash(user_id: int | None, key: bytes) -> str:
    """Return a short keyed hash of a member id ('-' when the update has no user)."""
    if user_id is None:
        return "-"
    return hashlib.blake2b(str(user_id).encode(), key=key[:64], digest_size=6).hexdigest()


class LoggedApplication(Application):  # type: ignore[type-arg]
    """An Application that logs one line per update and remembers when the last one ended."""

    hash_key: bytes = b""
    last_update_at: datetime | None = None

    async def start(self) -> None:
        """Start, with long jobs free to run (again)."""
        self.bot_data.stopping = False
        await super().start()

    async def stop(self) -> None:
        """Tell long jobs the bot is stopping (PTB waits for running jobs), then stop."""
        self.bot_data.stopping = True
        await super().stop()

    async def process_update(self, update: object) -> None:
        """Process an update as PTB does, then log what handled it, how long and how it ended."""
        _handler.set(None)
        _outcome.set(OK)
        started = time.perf_counter()
        try:
            await super().process_update(update)
        except BaseException:
            _outcome.set(ERROR)
            raise
        finally:
            self._log(update, (time.perf_counter() - started) * 1000)

    def _log(self, update: object, millis: float) -> None:
        """Write the update's line."""
        if not isinstance(update, Update):
            return
        handler = _handler.get()
        outcome = _outcome.get() if handler is not None else UNHANDLED
        user = update.effective_user
        member = member_hash(user.id if user is not None else None, self.hash_key)
        self.last_update_at = datetime.now(UTC)
        fields = {
            "update_id": update.update_id, "member": member, "handler": handler or "-",
            "latency_ms": round(millis, 1), "outcome": outcome,
        }  # fmt: skip
        logger.info(
            "update %(update_id)s member=%(member)s handler=%(handler)s %(latency_ms)s ms "
            "%(outcome)s",
            fields,
            extra={"fields": fields},
        )
