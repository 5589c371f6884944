"""Async engine, session factory and SQLite tuning for concurrent bot updates."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    ProgrammingError,
)
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql import Executable

from storage.sqlite_inline import inline_creator

SQLITE_BUSY_TIMEOUT = 10.0  # seconds
IDLE_PING_AFTER = 1.0  # seconds a PostgreSQL connection may sit in the pool unchecked
# PostgreSQL connections a process keeps open. All of them stay open: SQLAlchemy's default
# (5, plus 10 opened for a burst and closed after it) made every crowd of taps pay for new
# connections and their prepared statements again; 50 taps at once took 30 % longer.
POOL_SIZE = 10
# Wall-clock seconds a deferred write waits for others to be written with: a crowd's edits are
# recorded a transaction and a statement at a time, not one each.
GATHER_FOR = 0.05
FLUSH_RETRY = 1.0  # seconds before deferred writes the database could not take are tried again
DEFERRED_LIMIT = 10_000  # queued deferred writes kept through an outage; older ones are dropped
_WRITE_OPTION = "bandcoach_write"

# Writes the deferred items queued for it, in one go.
DeferredWrite = Callable[[AsyncSession, list[Any]], Awaitable[object]]
Deferred = tuple[DeferredWrite, Any]
logger = logging.getLogger(__name__)


# Distinct JSON texts kept decoded by frozen_json: a timer pass over thousands of sessions that
# share a few plans decodes each plan once.
FROZEN_TEXTS = 256
_FROZEN: dict[str, Any] = {}


def frozen_json(text: str) -> Any:
    """Return a JSON text's value, decoded once per distinct text; for values that are never
    changed in place, such as a session's plan, fixed once it starts."""
    found = _FROZEN.get(text)
    if found is None:
        if len(_FROZEN) >= FROZEN_TEXTS:
            _FROZEN.clear()
        found = _FROZEN[text] = orjson.loads(text)
    return found


def to_json(value: Any) -> str:
    """Return a JSON column's text; orjson turns plans and screens into text several times
    faster than the standard library, and a timer pass or a tap reads and writes many."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class Database:
    """Owns the engine and hands out read sessions and immediate write transactions."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        busy_timeout: float = SQLITE_BUSY_TIMEOUT,
        pool_size: int = POOL_SIZE,
    ) -> None:
        """Create the engine for an async SQLAlchemy URL (SQLite waits `busy_timeout` s; a
        server database gets `pool_size` connections, opened as needed, then kept)."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {
            "echo": echo, "json_serializer": to_json, "json_deserializer": orjson.loads,
        }  # fmt: skip
        if self.is_sqlite:  # SQLite runs on the loop's thread; busy waits are asyncio sleeps
            args, options = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
            kwargs["async_creator"] = inline_creator(args, options, busy_timeout)
        else:
            kwargs.update(pool_size=pool_size, max_overflow=0)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _tune_sqlite(self.engine)
        else:
            _ping_when_idle(self.engine)
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self.write_engine: AsyncEngine = self.engine.execution_options(**{_WRITE_OPTION: True})
        self._writer = async_sessionmaker(self.write_engine, expire_on_commit=False)
        self._queue: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._writing: asyncio.Task[object] | None = None
        self._deferred: list[Deferred] = []
        self._flush: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Yield a session for reads; nothing is committed."""
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """Yield a session in a write transaction that commits on success, rolls back on error.

        On SQLite the process's writers queue on an asyncio lock, first come first served,
        instead of sleeping in SQLite's busy handler (which retries on a timer, so a crowd of
        writers waits far longer than the writes take). Other processes still meet the busy
        timeout. A write nested in the same task keeps the old behaviour rather than deadlock.
        """
        task = asyncio.current_task()
        if not self.is_sqlite or task is None or self._writing is task:
            async with self._writer() as session, session.begin():
                yield session
            return
        async with self._write_queue():
            self._writing = task
            try:
                async with self._writer() as session, session.begin():
                    yield session
            finally:
                self._writing = None

    def defer(self, write: DeferredWrite, item: Any) -> None:
        """Queue a small write that may be late or repeated (a confirmed edit), to save a
        transaction of its own: `write(session, items)` later writes this item with every
        other item queued for it meanwhile.

        It is written GATHER_FOR seconds later in a background transaction, with whatever else
        was queued meanwhile; never inside a member's transaction, where it would add to that
        member's wait (and on PostgreSQL its row locks could meet the member's and deadlock).
        """
        self._deferred.append((write, item))
        del self._deferred[:-DEFERRED_LIMIT]
        if self._flush is None:
            loop = asyncio.get_running_loop()
            self._flush = loop.call_later(GATHER_FOR, self._start_flush)

    def _start_flush(self) -> None:
        """Write the queued deferred writes in a background task."""
        self._flush = None
        if self._deferred:
            task = asyncio.get_running_loop().create_task(self._flush_quietly())
            self._flushing.add(task)
            task.add_done_callback(self._flushing.discard)

    async def _flush_quietly(self) -> None:
        """Flush, keeping the writes queued if the database is away (nothing to report), and
        trying again FLUSH_RETRY seconds later."""
        try:
            await self.flush_deferred()
        except Exception as exc:
            logger.debug("Deferred writes wait for the database: %s", exc)
            if self._flush is None and self._deferred:
                loop = asyncio.get_running_loop()
                self._flush = loop.call_later(FLUSH_RETRY, self._start_flush)

    async def flush_deferred(self) -> None:
        """Write every queued deferred write now, in one transaction."""
        running = [t for t in self._flushing if t is not asyncio.current_task()]
        await asyncio.gather(*running, return_exceptions=True)
        if not self._deferred:
            return
        taken, self._deferred = self._deferred, []
        try:
            await self._write_all(taken)
        except BaseException:
            self._deferred[:0] = taken
            raise

    async def _write_all(self, deferred: Sequence[Deferred]) -> None:
        """Run deferred writes in one transaction, each once with its items in the order
        queued. One that fails is dropped (a later retry repairs what it did), and the others
        are written without it."""
        items: dict[DeferredWrite, list[Any]] = {}
        for write, item in deferred:
            items.setdefault(write, []).append(item)
        while items:
            failing: DeferredWrite | None = None  # the write running, should it fail
            try:
                async with self.write() as session:
                    await session.connection()  # begun: waiting for a lock is no write's fault
                    for write, queued in items.items():
                        failing = write
                        await write(session, queued)
                    failing = None
                return
            except Exception as exc:
                if failing is None or not _would_fail_again(exc):
                    raise  # the database is away or busy, or a deadlock: all are kept
                logger.warning("A deferred write failed and was dropped: %r", exc)
                del items[failing]

    def _write_queue(self) -> asyncio.Lock:
        """Return this event loop's write lock (a Database may outlive a loop, e.g. migrations)."""
        loop = asyncio.get_running_loop()
        if self._queue is None or self._queue[0] is not loop:
            self._queue = (loop, asyncio.Lock())
        return self._queue[1]

    async def dispose(self) -> None:
        """Close every pooled connection (call Delivery.close first: it flushes deferred writes)."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        await self.engine.dispose()


def _would_fail_again(exc: Exception) -> bool:
    """Return whether a write's failure lies in the write itself (its data, its SQL), not in
    the database's state (away, locked, a deadlock, a timeout), so a retry would fail too."""
    if isinstance(exc, OSError | TimeoutError):
        return False
    if not isinstance(exc, DBAPIError):
        return True  # e.g. a value no column type accepts
    if isinstance(exc, IntegrityError | DataError | ProgrammingError):
        return True
    state = str(getattr(exc.orig, "sqlstate", None) or "")
    return state[:2] in ("22", "23", "42")  # PostgreSQL's data, integrity and SQL classes


async def run(
    session: AsyncSession,
    statement: Executable,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> Any:
    """Execute a prebuilt Core statement in the session's transaction, past the ORM layer.

    The hot paths (a tap, a timer, a confirmed push) build each statement once with bind
    parameters: building and caching an expression per call cost more than running it. A
    sequence of parameter sets runs the statement once for each (executemany).
    """
    connection = await session.connection()
    if isinstance(params, Mapping):
        return await connection.execute(statement, dict(params))
    return await connection.execute(statement, [dict(p) for p in params])


def for_dialect(session: AsyncSession, build: Callable[..., Any], *args: Hashable) -> Any:
    """Return the statement build(dialect, *args) makes for the session's dialect, built once
    per dialect and arguments."""
    return _built(build, session.get_bind().dialect.name, *args)


@cache
def _built(build: Callable[..., Any], dialect: str, *args: Hashable) -> Any:
    """Return build(dialect, *args), kept."""
    return build(dialect, *args)


def upsert_insert(session: AsyncSession, table: Any) -> Any:
    """Return the dialect's INSERT for `table`, which supports ON CONFLICT on both backends."""
    return dialect_insert(session.get_bind().dialect.name, table)


def dialect_insert(dialect: str, table: Any) -> Any:
    """Return the INSERT of one dialect by name ("postgresql", else SQLite's)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _tune_sqlite(engine: AsyncEngine) -> None:
    """Turn on WAL and foreign keys, and make write transactions immediate."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook emit BEGIN itself instead of the driver's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=0")  # never sleep in C: the connection retries
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # kept in the file once it is set
        except Exception as exc:  # another connection is writing (e.g. migrating) right now
            if "locked" not in str(exc):
                raise
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that later upgrades to a write can fail with "database is
        # locked" under WAL even with a busy timeout; writers take the lock up front instead.
        if conn.get_execution_options().get(_WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled connection before use only if it sat idle: no round trip under load.

    SQLAlchemy's pool_pre_ping pings on every checkout, a round trip per transaction. A
    connection used within IDLE_PING_AFTER seconds is trusted; an older one is pinged and
    replaced if the server dropped it (a restart, an idle timeout). A server that goes away
    between two quick transactions costs one failed transaction, after which SQLAlchemy
    discards every pooled connection.
    """
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_AFTER:
            return  # new, or used a moment ago
        try:
            sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool reconnects, up to three times
            raise DisconnectionError(str(exc)) from exc
