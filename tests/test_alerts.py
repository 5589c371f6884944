"""Failure alerts: one traceback and one admin notice per kind per window, then counts."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg.exceptions
import pytest
import sqlalchemy.exc
import telegram.error
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.alerts import (
    DATABASE,
    TELEGRAM,
    Alerts,
    failure_kind,
    format_duration,
    guarded,
    short_message,
)
from bot.clock import ManualClock
from bot.logs import MASK, RedactingFormatter

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"
STATEMENT = "SELECT secret_column FROM users WHERE id = ? AND password = ?"
PARAMS = (42, "hunter2-secret-param")
SQL_BITS = ("SELECT", "secret_column", "hunter2", "[SQL", "[parameters", "sqlalche.me")
LOGGER = "test.alerts"


def raised(exc: BaseException, cause: BaseException | None = None) -> BaseException:
    """Raise and catch an exception so it carries a real traceback, like one from a job."""
    try:
        raise exc from cause
    except BaseException as caught:
        return caught


def db_down(message: str = "database is locked") -> BaseException:
    """Build the OperationalError SQLAlchemy raises when SQLite's driver fails a statement."""
    orig = sqlite3.OperationalError(message)
    exc = sqlalchemy.exc.DBAPIError.instance(STATEMENT, PARAMS, orig, sqlite3.Error)
    assert isinstance(exc, sqlalchemy.exc.OperationalError)
    assert "secret_column" in str(exc)  # the raw error does carry SQL text
    return raised(exc, orig)


class Notices(list[str]):
    """An admin notifier that collects notice texts."""

    async def __call__(self, text: str) -> None:
        """Collect one notice."""
        self.append(text)

    def warnings(self) -> list[str]:
        """Return the failure notices."""
        return [n for n in self if n.startswith("⚠️")]

    def recoveries(self) -> list[str]:
        """Return the recovery notices."""
        return [n for n in self if n.startswith("✅")]


@pytest.fixture
def clock() -> ManualClock:
    """Return a stopped clock (this module needs nothing else from conftest)."""
    return ManualClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))


@pytest.fixture
def notices() -> Notices:
    """Return an empty notice collector."""
    return Notices()


@pytest.fixture
def alerts(clock: ManualClock, notices: Notices, caplog: pytest.LogCaptureFixture) -> Alerts:
    """Return Alerts on the manual clock, collecting notices, logging into caplog."""
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return Alerts(clock=clock, notify=notices, logger=logging.getLogger(LOGGER))


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Return the records Alerts logged."""
    return [r for r in caplog.records if r.name == LOGGER]


LOCKED = "⚠️ Database problem in timers: OperationalError: database is locked"


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Return the records that carry a traceback."""
    return [r for r in records(caplog) if r.exc_info]


def assert_no_sql(notices: Notices, caplog: pytest.LogCaptureFixture) -> None:
    """Check that no notice and no log message text contains SQL or its parameters."""
    texts = [*notices, *(r.getMessage() for r in records(caplog))]
    assert texts
    for bit in SQL_BITS:
        assert not [t for t in texts if bit in t], bit


class Ticker:
    """A 1 s job that fails with a database error while `down` is set."""

    def __init__(self, clock: ManualClock, alerts: Alerts) -> None:
        """Wrap the job with `guarded`, as the scheduler would."""
        self.clock = clock
        self.down = False
        self.runs = 0
        self.job = guarded(alerts, "timers", self.tick)

    async def tick(self, context: object) -> None:
        """Do the job's work: fail while the database is down."""
        self.runs += 1
        if self.down:
            raise db_down()

    async def run(self, ticks: int) -> None:
        """Run the job `ticks` times, one app second apart."""
        for _ in range(ticks):
            await self.job(None)
            self.clock.advance(1)


async def test_a_60_s_database_outage_logs_one_traceback_one_notice_and_one_recovery(
    clock: ManualClock, alerts: Alerts, notices: Notices, caplog: pytest.LogCaptureFixture
) -> None:
    ticker = Ticker(clock, alerts)
    await ticker.run(5)
    assert records(caplog) == [] and notices == []

    ticker.down = True
    await ticker.run(61)  # t = 0 … 60 s: 61 failed ticks, none raised out of the wrapper
    assert ticker.runs == 66
    errors = tracebacks(caplog)
    assert len(errors) == 1
    assert errors[0].levelno == logging.ERROR
    assert errors[0].getMessage() == "timers failed: OperationalError: database is locked"
    assert isinstance(errors[0].exc_info[1], sqlalchemy.exc.OperationalError)  # type: ignore[index]
    assert notices == [LOCKED]
    # Besides the traceback, at most one summary line for the whole window.
    warnings = [r for r in records(caplog) if r.levelno == logging.WARNING]
    assert len(records(caplog)) <= 2 and len(warnings) <= 1
    assert [w.getMessage() for w in warnings] == [
        "the database has been unreachable for 60 s, 61 failures (where: timers); "
        "last: OperationalError: database is locked"
    ]
    assert alerts.failing() == {DATABASE: 61}

    ticker.down = False
    before = len(records(caplog))
    await ticker.run(3)
    recovery = records(caplog)[before:]
    assert [(r.levelno, r.getMessage()) for r in recovery] == [
        (logging.INFO, "the database recovered after 61 s, 61 failures")
    ]
    assert notices.warnings() == [LOCKED]
    assert notices.recoveries() == ["✅ The database recovered after 61 s, 61 failures"]
    assert alerts.failing() == {}
    assert_no_sql(notices, caplog)


async def test_still_failing_after_the_window_brings_one_summary_and_one_notice_with_the_count(
    clock: ManualClock, alerts: Alerts, notices: Notices, caplog: pytest.LogCaptureFixture
) -> None:
    ticker = Ticker(clock, alerts)
    ticker.down = True
    await ticker.run(601)  # t = 0 … 600 s
    assert len(tracebacks(caplog)) == 1
    assert notices == [
        LOCKED,
        "⚠️ the database has been unreachable for 10 min, 601 failures (where: timers); "
        "last: OperationalError: database is locked",
    ]
    # One traceback, one summary in the first window, one summary opening the second.
    assert [r.levelname for r in records(caplog)] == ["ERROR", "WARNING", "WARNING"]

    await ticker.run(599)  # up to t = 1199 s: still inside the second window
    assert len(notices) == 2
    assert [r.levelname for r in records(caplog)] == ["ERROR", "WARNING", "WARNING", "WARNING"]
    await ticker.run(1)  # t = 1200 s: the third window
    assert len(notices) == 3 and "1201 failures" in notices[-1] and "20 min" in notices[-1]
    assert len(tracebacks(caplog)) == 1

    ticker.down = False
    await ticker.run(1)
    assert records(caplog)[-1].getMessage() == (
        "the database recovered after 20 min, 1201 failures"
    )
    assert_no_sql(notices, caplog)


async def test_a_new_outage_after_the_window_is_reported_afresh(
    clock: ManualClock, alerts: Alerts, notices: Notices, caplog: pytest.LogCaptureFixture
) -> None:
    ticker = Ticker(clock, alerts)
    ticker.down = True
    await ticker.run(3)
    ticker.down = False
    await ticker.run(1)
    clock.advance(timedelta(minutes=10))
    ticker.down = True
    await ticker.run(2)
    assert len(tracebacks(caplog)) == 2
    assert notices.warnings() == [LOCKED] * 2
    assert notices.recoveries() == ["✅ The database recovered after 3 s, 3 failures"]


async def test_a_flapping_database_stays_within_one_notice_and_one_traceback_per_window(
    clock: ManualClock, alerts: Alerts, notices: Notices, caplog: pytest.LogCaptureFixture
) -> None:
    ticker = Ticker(clock, alerts)
    for _ in range(290):  # down one second, up the next, for 9 min 40 s
        ticker.down = True
        await ticker.run(1)
        ticker.down = False
        await ticker.run(1)
    assert len(tracebacks(caplog)) == 1
    assert notices.warnings() == [LOCKED]
    assert len(notices.recoveries()) == 1
    # The traceback, its recovery, one summary for the window, its recovery.
    assert [r.getMessage() for r in records(caplog)] == [
        "timers failed: OperationalError: database is locked",
        "the database recovered after 1 s, 1 failure",
        "the database failed again (timers): 30 failures in 30 outages in the 60 s since the "
        "last report; last: OperationalError: database is locked",
        "the database recovered after 1 s, 1 failure",
    ]

    clock.advance(timedelta(minutes=1))  # the next window
    ticker.down = True
    await ticker.run(1)
    assert len(tracebacks(caplog)) == 2
    assert len(notices.warnings()) == 2
    assert notices.warnings()[-1] == (
        "⚠️ Database problem in timers: OperationalError: database is locked "
        "(after 288 unlogged failures in short outages)"  # 290 flaps - 2 logged
    )


async def test_two_kinds_each_get_their_own_traceback_and_notice(
    clock: ManualClock, alerts: Alerts, notices: Notices, caplog: pytest.LogCaptureFixture
) -> None:
    timed_out = telegram.error.TimedOut()
    for _ in range(30):
        await alerts.failed(db_down(), where="timers")
        await alerts.failed(raised(timed_out), where="reminders")
        await alerts.failed(raised(KeyError("week")), where="updates", detail="update 7")
        clock.advance(1)
    assert sorted(notices) == [
        LOCKED,
        "⚠️ Telegram problem in reminders: TimedOut: Timed out",
        "⚠️ updates (update 7): KeyError: 'week'",
    ]
    assert len(tracebacks(caplog)) == 3
    assert alerts.failing() == {DATABASE: 30, TELEGRAM: 30, "KeyError": 30}

    # A success of one job recovers only the kinds that failed there.
    await alerts.succeeded("timers")
    assert alerts.failing() == {TELEGRAM: 30, "KeyError": 30}
    await alerts.succeeded("reminders")
    await alerts.succeeded("timers")  # nothing was failing there any more: no line
    assert alerts.failing() == {"KeyError": 30}
    recovered = [r.getMessage() for r in records(caplog) if r.levelno == logging.INFO]
    assert recovered == [
        "the database recovered after 30 s, 30 failures",
        "Telegram recovered after 30 s, 30 failures",
    ]
    await alerts.recovered("KeyError")
    assert alerts.failing() == {}


async def test_a_notifier_that_raises_is_logged_not_propagated(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    attempts: list[str] = []

    async def broken(text: str) -> None:
        attempts.append(text)
        raise telegram.error.NetworkError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage")

    alerts = Alerts(clock=clock, notify=broken, logger=logging.getLogger(LOGGER))
    await alerts.failed(db_down(), where="timers")
    await alerts.failed(db_down(), where="timers")
    clock.advance(5)
    await alerts.recovered(DATABASE)
    assert len(attempts) == 2  # the failure notice and the recovery notice
    failures = [r.getMessage() for r in records(caplog) if "Could not send" in r.getMessage()]
    assert len(failures) == 2
    assert failures[0].startswith("Could not send an admin notice: NetworkError: ")
    assert all(TOKEN not in line for line in failures)


async def test_a_token_in_an_error_never_reaches_a_notice_or_a_log_line(
    clock: ManualClock, alerts: Alerts, notices: Notices, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"https://api.telegram.org/bot{TOKEN}/getUpdates"
    network = telegram.error.NetworkError(f"httpx.ConnectError: {url}")
    await alerts.failed(raised(network), where="a")
    await alerts.failed(raised(RuntimeError(f"boom at {url}\nsecond line {TOKEN}")), where="b")
    await alerts.failed(db_down(f"unable to open {TOKEN}"), where="c")
    clock.advance(120)
    await alerts.failed(raised(RuntimeError(f"again {TOKEN}")), where="b")
    await alerts.succeeded("a")
    assert len(notices) == 4 and len(records(caplog)) == 5
    lines = [*notices, *(r.getMessage() for r in records(caplog))]
    assert all(TOKEN not in line and "AAFakeToken" not in line for line in lines)
    assert any(MASK in line for line in notices)
    # The tracebacks carry the token; the app's RedactingFormatter masks them on output.
    formatter = RedactingFormatter("%(message)s")
    for record in tracebacks(caplog):
        output = formatter.format(record)
        assert "Traceback" in output and TOKEN not in output


async def test_literal_secrets_are_masked_too(clock: ManualClock, notices: Notices) -> None:
    alerts = Alerts(
        clock=clock, notify=notices, logger=logging.getLogger(LOGGER), secrets=("s3cr3t",)
    )
    await alerts.failed(RuntimeError("password s3cr3t rejected"), where="x")
    assert notices == [f"⚠️ x: RuntimeError: password {MASK} rejected"]


async def test_guarded_passes_the_context_and_keeps_the_job_name(
    alerts: Alerts, notices: Notices
) -> None:
    seen: list[object] = []

    async def timers_job(context: object) -> None:
        seen.append(context)
        raise ValueError("bad row")

    job = guarded(lambda context: alerts, "timers", timers_job)
    await job("ctx")
    assert seen == ["ctx"]
    assert job.__name__ == "timers_job"  # PTB names jobs after their callback
    assert notices == ["⚠️ timers: ValueError: bad row"]


async def test_guarded_without_alerts_lets_the_error_through() -> None:
    async def job(context: object) -> None:
        raise ValueError("no alerts yet")

    wrapped: Callable[[object], Awaitable[None]] = guarded(lambda context: None, "x", job)
    with pytest.raises(ValueError, match="no alerts yet"):
        await wrapped(None)


def _raise_inside(module: str, exc: BaseException) -> BaseException:
    """Raise an exception from a frame that belongs to `module`, as a driver would."""
    code = compile("raise exc", f"{module.replace('.', '/')}.py", "exec")
    try:
        exec(code, {"__name__": module, "exc": exc})
    except BaseException as caught:
        return caught
    raise AssertionError("not raised")


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (db_down, DATABASE),
        (lambda: sqlite3.OperationalError("database is locked"), DATABASE),
        (lambda: sqlalchemy.exc.InterfaceError("SELECT 1", None, Exception("closed")), DATABASE),
        (
            lambda: sqlalchemy.exc.DBAPIError("SELECT 1", None, Exception("conn lost")),
            DATABASE,
        ),
        (lambda: asyncpg.exceptions.ConnectionDoesNotExistError("closed"), DATABASE),
        (lambda: asyncpg.exceptions.CannotConnectNowError("starting up"), DATABASE),
        (lambda: asyncpg.exceptions.InterfaceError("connection is closed"), DATABASE),
        (
            lambda: _raise_inside(
                "asyncpg.connect_utils", ConnectionRefusedError(111, "Connect call failed")
            ),
            DATABASE,
        ),
        (lambda: _raise_inside("sqlalchemy.pool.base", TimeoutError()), DATABASE),
        (lambda: raised(RuntimeError("wrapped"), db_down()), DATABASE),
        (lambda: raised(ConnectionRefusedError(111, "refused")), "ConnectionRefusedError"),
        (
            lambda: sqlalchemy.exc.IntegrityError("INSERT", None, Exception("UNIQUE")),
            "IntegrityError",
        ),
        (lambda: telegram.error.TimedOut(), TELEGRAM),
        (lambda: telegram.error.NetworkError("httpx.ConnectError"), TELEGRAM),
        (lambda: telegram.error.BadRequest("Message is not modified"), "BadRequest"),
        (lambda: KeyError("x"), "KeyError"),
    ],
)
def test_failure_kind(make: Callable[[], BaseException], kind: str) -> None:
    assert failure_kind(make()) == kind


async def test_real_connection_failures_are_database_failures(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.sqlite3"
    for url in (f"sqlite+aiosqlite:///{missing}", "postgresql+asyncpg://u:p@127.0.0.1:1/x"):
        engine = create_async_engine(url)
        try:
            with pytest.raises(Exception) as info:  # whatever the driver raises
                async with engine.connect() as conn:
                    await conn.execute(text("SELECT secret_column FROM users"))
        finally:
            await engine.dispose()
        assert failure_kind(info.value) == DATABASE, repr(info.value)
        assert "secret_column" not in short_message(info.value)


def test_short_message_drops_sql_and_keeps_the_first_line() -> None:
    assert short_message(db_down()) == "OperationalError: database is locked"
    statement_error = sqlalchemy.exc.StatementError(
        "bind failed", STATEMENT, {"p": "hunter2"}, TypeError("unsupported type")
    )
    assert short_message(statement_error) == "StatementError: unsupported type"
    no_orig = sqlalchemy.exc.StatementError("bind failed", STATEMENT, {"p": 1}, None)
    assert short_message(no_orig) == "StatementError: bind failed"
    assert short_message(RuntimeError("first\nsecond")) == "RuntimeError: first"
    flattened = RuntimeError(str(db_down()).replace("\n", " "))  # SQL on the first line
    assert short_message(flattened) == "RuntimeError: database is locked"
    assert short_message(telegram.error.TimedOut()) == "TimedOut: Timed out"
    assert short_message(RuntimeError()) == "RuntimeError"
    long = short_message(RuntimeError("x" * 1000))
    assert len(long) <= 200 and long.endswith("…")


def test_format_duration() -> None:
    assert format_duration(timedelta(seconds=62)) == "62 s"
    assert format_duration(timedelta(minutes=3)) == "3 min"
    assert format_duration(timedelta(hours=2, minutes=5)) == "2 h 5 min"
