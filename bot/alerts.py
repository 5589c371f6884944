"""Rate-limited failure alerts: one traceback and one admin notice per kind of failure per window.

A database outage makes every tick of a 1 s job fail. Instead of a traceback and an admin
notice per tick, `Alerts` logs the first failure of a kind with its traceback and tells the
admins once, then only counts; at most one WARNING summary follows per window, a failure after
the window has passed brings one summary and one notice with the count, and the first success
afterwards logs one recovery line. Notices carry the error type and a short message: never SQL,
never a traceback, never a bot token.
"""

from __future__ import annotations

import functools
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import asyncpg.exceptions
import sqlalchemy.exc
import telegram.error

from bot.logs import redact

DATABASE = "database"
TELEGRAM = "telegram"
MAX_MESSAGE = 200
DEFAULT_WINDOW = timedelta(minutes=10)
DEFAULT_SUMMARY_AFTER = timedelta(minutes=1)

# Outage-shaped SQLAlchemy errors; IntegrityError, ProgrammingError, DataError are bugs instead.
_SQLALCHEMY_OUTAGES: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.InternalError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,  # the connection pool is exhausted
)
_SQLALCHEMY_BUGS: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.IntegrityError,
    sqlalchemy.exc.ProgrammingError,
    sqlalchemy.exc.DataError,
    sqlalchemy.exc.NotSupportedError,
)
_DRIVER_OUTAGES: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # admin shutdown, cannot connect now
    asyncpg.exceptions.TooManyConnectionsError,
    sqlite3.OperationalError,  # "database is locked", "unable to open database file"
)
# An OSError raised inside these modules is a failure to reach the database.
_DATABASE_MODULES = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3")
_SQL_PARTS = (
    re.compile(r"\[SQL:.*", re.DOTALL),  # the statement, and the parameters after it
    re.compile(r"\[parameters:.*", re.DOTALL),
    re.compile(r"\(Background on this error at:[^)]*\)"),
)
_WRAPPER_PREFIX = re.compile(r"^\([\w.]+\)\s*")  # SQLAlchemy's "(sqlite3.OperationalError) "
_CLASS_PREFIX = re.compile(r"^<class '[\w.]+'>:\s*")  # older asyncpg adapters' message prefix

Ctx = TypeVar("Ctx")
Notify = Callable[[str], Awaitable[None]]


def failure_kind(exc: BaseException) -> str:
    """Name the kind of a failure: "database", "telegram", or the exception's type name."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # follow `raise ... from ...`
        seen.add(id(current))
        if _is_database_failure(current):
            return DATABASE
        if isinstance(current, telegram.error.NetworkError) and not isinstance(
            current, telegram.error.BadRequest
        ):
            return TELEGRAM  # includes TimedOut; BadRequest is our bug, not an outage
        current = current.__cause__
    return type(exc).__name__


def _is_database_failure(exc: BaseException) -> bool:
    """Tell whether an exception means the database cannot be reached or used right now."""
    if isinstance(exc, _SQLALCHEMY_BUGS):
        return False
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        # Exactly DBAPIError is the driver's generic error (asyncpg's connection errors).
        return (
            isinstance(exc, _SQLALCHEMY_OUTAGES)
            or type(exc) is sqlalchemy.exc.DBAPIError
            or exc.connection_invalidated
        )
    if isinstance(exc, _SQLALCHEMY_OUTAGES + _DRIVER_OUTAGES):
        return True
    return isinstance(exc, OSError) and _raised_in(exc, _DATABASE_MODULES)


def _raised_in(exc: BaseException, prefixes: tuple[str, ...]) -> bool:
    """Tell whether any frame of the exception's traceback belongs to one of these packages."""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.split(".", 1)[0] in prefixes:
            return True
        tb = tb.tb_next
    return False


def short_message(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """Return "<TypeName>: <first line of the message>", without SQL or tokens, ~200 chars."""
    source: BaseException = exc
    if isinstance(exc, sqlalchemy.exc.StatementError) and exc.orig is not None:
        source = exc.orig
    text = str(source)
    for pattern in _SQL_PARTS:
        text = pattern.sub("", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = _CLASS_PREFIX.sub("", _WRAPPER_PREFIX.sub("", lines[0])) if lines else ""
    result = redact(f"{type(exc).__name__}: {first}" if first else type(exc).__name__, secrets)
    return result if len(result) <= MAX_MESSAGE else result[: MAX_MESSAGE - 1] + "…"


def format_duration(delta: timedelta) -> str:
    """Render a duration for people: "45 s", "3 min", "2 h 5 min"."""
    seconds = max(0, round(delta.total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _label(kind: str) -> str:
    """Name a kind in a sentence."""
    return {DATABASE: "the database", TELEGRAM: "Telegram"}.get(kind, kind)


def _count(n: int, noun: str = "failure") -> str:
    """Say "1 failure" or "61 failures"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _failing(kind: str) -> str:
    """Say that a kind is failing, in the words that fit it."""
    return "unreachable" if kind in (DATABASE, TELEGRAM) else "failing"


@dataclass
class _KindState:
    """What Alerts remembers about one kind of failure."""

    reported_at: datetime | None = None  # last traceback/notice: the current window's start
    warned: bool = False  # the window's one WARNING summary has been logged
    outage_since: datetime | None = None  # first failure of the current outage; None if healthy
    last_failure: datetime | None = None
    failures: int = 0  # failures in the current outage
    announced: bool = False  # a line was logged for this outage, so its recovery gets one
    noticed: bool = False  # admins were told about this outage, so they hear of its recovery
    unlogged: int = 0  # failures of short outages that recovered before any line was logged
    since_report: int = 0  # failures after the one that opened the window
    outages_since_report: int = 0  # outages that began after the window opened
    wheres: set[str] = field(default_factory=set)


class Alerts:
    """Rate-limit failure logging and admin notices per kind of failure."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        notify: Notify,
        logger: logging.Logger,
        window: timedelta = DEFAULT_WINDOW,
        *,
        summary_after: timedelta = DEFAULT_SUMMARY_AFTER,
        notify_recovery: bool = True,
        secrets: tuple[str, ...] = (),
    ) -> None:
        """Remember the clock, the admin notifier, the logger and the rate-limit window."""
        self.clock = clock
        self.notify = notify
        self.logger = logger
        self.window = window
        self.summary_after = min(summary_after, window)
        self.notify_recovery = notify_recovery
        self.secrets = secrets
        self._states: dict[str, _KindState] = {}
        self._failing_by_where: dict[str, set[str]] = {}

    def failing(self) -> dict[str, int]:
        """Return each kind that is failing now with its failure count so far."""
        return {
            kind: state.failures
            for kind, state in self._states.items()
            if state.outage_since is not None
        }

    async def failed(self, exc: BaseException, *, where: str, detail: str = "") -> None:
        """Record a failure at `where`; log and notify only as the rate limit allows."""
        now = self.clock()
        kind = failure_kind(exc)
        short = short_message(exc, self.secrets)
        place = f"{where} ({detail})" if detail else where
        state = self._states.setdefault(kind, _KindState())
        if (
            state.outage_since is not None
            and state.last_failure is not None
            and now - state.last_failure >= self.window
        ):
            self._end_outage(kind, state)  # quiet for a whole window: call that one over
        if state.outage_since is None:
            state.outage_since, state.failures = now, 0
            state.announced = state.noticed = False
            state.outages_since_report += 1
        state.failures += 1
        state.since_report += 1
        state.last_failure = now
        state.wheres.add(where)
        self._failing_by_where.setdefault(where, set()).add(kind)

        if state.reported_at is None or now - state.reported_at >= self.window:
            await self._report(kind, state, exc, now, place, short)
        elif not state.warned and now - state.reported_at >= self.summary_after:
            state.warned = state.announced = True
            self._log(logging.WARNING, f"{self._summary(kind, state, now, where)}; last: {short}")

    async def _report(
        self,
        kind: str,
        state: _KindState,
        exc: BaseException,
        now: datetime,
        place: str,
        short: str,
    ) -> None:
        """Open a new window: a traceback (or a summary if still failing) and one notice."""
        continuing = state.failures > 1
        summary = self._summary(kind, state, now, place)
        unlogged = state.unlogged
        self._open_window(state, now)  # before awaiting: concurrent failures see the new window
        if continuing:
            text = f"{summary}; last: {short}"
            self._log(logging.WARNING, text)
            await self._send(f"⚠️ {text}")
            return
        earlier = f" (after {unlogged} unlogged failures in short outages)" if unlogged else ""
        self._log(logging.ERROR, f"{place} failed: {short}{earlier}", exc)
        problem = {DATABASE: "Database problem in ", TELEGRAM: "Telegram problem in "}
        await self._send(f"⚠️ {problem.get(kind, '')}{place}: {short}{earlier}")

    def _open_window(self, state: _KindState, now: datetime) -> None:
        """Start a new rate-limit window at `now`, with this outage announced to admins."""
        state.reported_at, state.warned = now, False
        state.announced = state.noticed = True
        state.unlogged = state.since_report = state.outages_since_report = 0

    async def succeeded(self, where: str) -> None:
        """Record a success at `where`: every kind that failed there has recovered. O(1) if none."""
        kinds = self._failing_by_where.pop(where, None)
        if not kinds:
            return
        for kind in sorted(kinds):
            await self.recovered(kind)

    async def recovered(self, kind: str) -> None:
        """Mark a kind as working again: one INFO line and, if admins were told, one notice."""
        state = self._states.get(kind)
        if state is None or state.outage_since is None:
            return
        now = self.clock()
        duration, failures, noticed = now - state.outage_since, state.failures, state.noticed
        announced = state.announced
        self._end_outage(kind, state)
        if not announced:
            return
        text = f"{_label(kind)} recovered after {format_duration(duration)}, {_count(failures)}"
        self._log(logging.INFO, text)
        if noticed and self.notify_recovery:
            await self._send(f"✅ {text[0].upper()}{text[1:]}")

    def _end_outage(self, kind: str, state: _KindState) -> None:
        """Forget an outage (keeping the window, so a flapping kind stays rate-limited)."""
        if not state.announced:
            state.unlogged += state.failures
        for where in state.wheres:
            kinds = self._failing_by_where.get(where)
            if kinds is not None:
                kinds.discard(kind)
                if not kinds:
                    del self._failing_by_where[where]
        state.wheres.clear()
        state.outage_since = state.last_failure = None
        state.failures = 0
        state.announced = state.noticed = False

    def _summary(self, kind: str, state: _KindState, now: datetime, where: str) -> str:
        """Say how long a kind has been failing and how often, or how often it failed again."""
        since = state.outage_since or now
        if state.reported_at is not None and since > state.reported_at:
            # A new outage inside the window: count everything since the window's report.
            return (
                f"{_label(kind)} failed again ({where}): {_count(state.since_report)} "
                f"in {_count(state.outages_since_report, 'outage')} in the "
                f"{format_duration(now - state.reported_at)} since the last report"
            )
        wheres = ", ".join(sorted(state.wheres))
        return (
            f"{_label(kind)} has been {_failing(kind)} for {format_duration(now - since)}, "
            f"{_count(state.failures)} (where: {wheres})"
        )

    def _log(self, level: int, text: str, exc: BaseException | None = None) -> None:
        """Log one redacted line, with the exception's traceback if given."""
        self.logger.log(level, "%s", redact(text, self.secrets), exc_info=exc)

    async def _send(self, text: str) -> None:
        """Send one admin notice; a failure to send is logged, never raised."""
        try:
            await self.notify(redact(text, self.secrets))
        except Exception as exc:
            self._log(logging.WARNING, f"Could not send an admin notice: {short_message(exc)}")


def guarded(
    alerts: Alerts | Callable[[Ctx], Alerts | None],
    where: str,
    job: Callable[[Ctx], Awaitable[None]],
) -> Callable[[Ctx], Coroutine[Any, Any, None]]:
    """Wrap a job callback so its failures go to Alerts (not raised) and successes recover."""

    @functools.wraps(job)
    async def run(context: Ctx) -> None:
        """Run the job once and report its outcome."""
        target = alerts if isinstance(alerts, Alerts) else alerts(context)
        if target is None:
            await job(context)
            return
        try:
            await job(context)
        except Exception as exc:
            await target.failed(exc, where=where)
        else:
            await target.succeeded(where)

    return run
