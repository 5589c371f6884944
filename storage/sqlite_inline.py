"""SQLite on the event loop's own thread, behind aiosqlite's interface.

aiosqlite hands every call to a worker thread and back: about 80 µs a hop on this kind of
machine, three hops a statement, where SQLite itself takes a microsecond or two. A local SQLite
file answers faster than a thread switch, so this connection runs each call inline, on the
event loop's thread, and SQLAlchemy's aiosqlite dialect drives it unchanged.

One call must never stall the loop, so SQLite's own busy handler (which sleeps inside the C
library) is off: a call that finds the database locked by another process is retried with
`asyncio.sleep` until the busy timeout has passed, then fails as SQLite would ("database is
locked"). Writers of this process never meet that: `Database.write` queues them first.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Generator, Mapping, Sequence
from functools import partial
from typing import Any

import aiosqlite

FIRST_RETRY = 0.001  # seconds; doubled up to LAST_RETRY while the lock is held
LAST_RETRY = 0.05


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Return True when SQLite refused a call because another connection holds the lock."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(exc)


class _InlineQueue:
    """Stands in for aiosqlite's queue to its worker thread: runs each call at once."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        """Run the call and settle its future (SQLAlchemy's dialect queues some calls itself)."""
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller, as the thread would
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if future is not None and not future.done():
            future.set_result(result)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread, busy waits included."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout: float) -> None:
        """Prepare a connection; it opens when awaited, like aiosqlite's own."""
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _InlineQueue()  # type: ignore[assignment]
        self._busy_timeout = busy_timeout

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one call now; while another process holds the lock, wait without blocking."""
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._busy_timeout
        pause = FIRST_RETRY
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or loop.time() + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, LAST_RETRY)

    async def _connect(self) -> InlineConnection:
        """Open the sqlite3 connection on this thread."""
        if self._connection is None:
            self._connection = self._connector()
        return self

    def __await__(self) -> Generator[Any, None, InlineConnection]:
        """Open the connection (no worker thread is started)."""
        return self._connect().__await__()

    def stop(self) -> asyncio.Future[Any] | None:
        """Close the sqlite3 connection; there is no thread to stop."""
        self._running = False
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        return None

    async def close(self) -> None:
        """Close the connection."""
        self.stop()


def inline_creator(
    args: Sequence[Any], kwargs: Mapping[str, Any], busy_timeout: float
) -> Callable[[], Any]:
    """Return SQLAlchemy's `async_creator` for inline connections with the dialect's arguments."""
    connect = partial(sqlite3.connect, *args, **{**kwargs, "timeout": 0})

    async def create() -> InlineConnection:
        return await InlineConnection(connect, busy_timeout)

    return create
