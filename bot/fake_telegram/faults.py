"""Fault injection: make chosen Bot API calls fail like Telegram (429, 500, 403, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar

from .chats import ChatStore
from .errors import INTERNAL_SERVER_ERROR, too_many_requests
from .wire import Params


class Pending(Protocol):
    """Anything armed for the next `times` calls of a method ("*" = any), maybe one chat only."""

    method: str
    chat_id: int | None
    times: int


PendingT = TypeVar("PendingT", bound=Pending)


@dataclass
class Fault:
    """An injected error waiting to be returned for a matching call."""

    method: str
    code: int
    description: str
    retry_after: int | None
    chat_id: int | None
    times: int


class FaultInjection(ChatStore):
    """Injected errors and blocked users; mixed into FakeTelegram."""

    _faults: list[Fault]

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
        self._faults.append(Fault(method.lower(), code, description, retry_after, chat_id, times))

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

    def _take_fault(self, method: str, params: Params) -> Fault | None:
        """Consume and return the first injected fault matching this call."""
        return self._take_pending(self._faults, method, params)

    def _take_pending(
        self, pending: list[PendingT], method: str, params: Params
    ) -> PendingT | None:
        """Consume one use of the first entry matching this call (method lowercased)."""
        for entry in pending:
            if entry.method not in (method, "*"):
                continue
            if entry.chat_id is not None and self._chat_of(params) != entry.chat_id:
                continue
            entry.times -= 1
            if entry.times <= 0:
                pending.remove(entry)
            return entry
        return None

    def _chat_of(self, params: Params) -> int | None:
        """Return the chat a call targets (via chat_id or callback_query_id)."""
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            return chat_id
        query = self.callback_queries.get(str(params.get("callback_query_id")))
        return query.chat_id if query else None
