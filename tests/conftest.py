"""Shared fixtures: both databases, the fake Telegram, and the real Application in front of it."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.clock import ManualClock
from bot.config import Settings
from bot.context import BandCoachApp, BandCoachContext
from storage import repositories as repo
from storage.db import Database
from storage.migrate import upgrade

if TYPE_CHECKING:
    from bot.fake_telegram import FakeTelegram, FakeUser

FAKE_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"
BACKENDS = ("sqlite", "postgres")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """Start one real PostgreSQL (pgserver, no system service) for the whole test run."""
    import pgserver

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    # A folder of this run's own, outside pytest's shared temp tree: pgserver opens its parents
    # to its own user, and another pytest run would lock that tree back to owner-only.
    home = Path(tempfile.mkdtemp(prefix="bandcoach-pg-"))
    server = pgserver.get_server(home, cleanup_mode="stop")
    yield server
    server.cleanup()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield an async URL to an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'bandcoach.sqlite3'}"
        return
    server = request.getfixturevalue("pg_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    server.psql(f"CREATE DATABASE {name};")
    base = server.get_uri()  # postgresql://postgres:@/postgres?host=/path
    yield base.replace("postgresql://", "postgresql+asyncpg://").replace("/postgres?", f"/{name}?")
    server.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE);")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """Yield a migrated Database on each backend."""
    database = Database(database_url)
    await upgrade(database)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    """Return the app's clock, stopped at Monday 2026-11-23 06:00 UTC until a test moves it."""
    return ManualClock(datetime(2026, 11, 23, 6, 0, tzinfo=UTC))


@pytest.fixture
def fake() -> FakeTelegram:
    """Return a fresh fake Telegram Bot API."""
    from bot.fake_telegram import FakeTelegram

    return FakeTelegram(token=FAKE_TOKEN)


@dataclass
class HandlerErrors:
    """Exceptions raised inside handlers during a test."""

    errors: list[tuple[object, BaseException]] = field(default_factory=list)

    async def record(self, update: object, context: BandCoachContext) -> None:
        """Remember a handler exception so the test fails unless it expected one."""
        assert context.error is not None
        self.errors.append((update, context.error))


async def make_user(db: Database, user_id: int = 1) -> None:
    """Insert a user at the first onboarding step."""
    async with db.write() as session:
        await repo.register_user(
            session,
            user_id=user_id,
            chat_id=user_id,
            first_name="Sam",
            timezone="UTC",
            first_step="goal",
        )


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Return settings for a test app: the fake token and the given database."""
    values: dict[str, Any] = {
        "telegram_bot_token": FAKE_TOKEN,
        "database_url": database_url,
        "default_timezone": "UTC",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def handler_errors() -> HandlerErrors:
    """Collect handler exceptions for the app fixture."""
    return HandlerErrors()


async def no_wait(seconds: float) -> None:
    """Stand in for asyncio.sleep in retries: yield to the loop, wait no wall time."""
    await asyncio.sleep(0)


@asynccontextmanager
async def running_app(
    database_url: str,
    fake: FakeTelegram,
    clock: ManualClock,
    errors: HandlerErrors,
    *,
    receive_updates: bool = True,
    **settings: Any,
) -> AsyncIterator[BandCoachApp]:
    """Run a real Application against the fake; retries wait no wall time."""
    from bot.fake_telegram.harness import running_app as harness

    async with harness(
        make_settings(database_url, **settings), fake, clock, on_error=errors.record,
        sleep=no_wait,
        receive_updates=receive_updates,
    ) as application:  # fmt: skip
        yield application


@pytest.fixture
async def app(
    request: pytest.FixtureRequest,
    database_url: str,
    fake: FakeTelegram,
    clock: ManualClock,
    handler_errors: HandlerErrors,
) -> AsyncIterator[BandCoachApp]:
    """Run the app under test; fail the test if a handler raised and it did not expect that."""
    async with running_app(database_url, fake, clock, handler_errors) as application:
        yield application
    if handler_errors.errors and request.node.get_closest_marker("allow_handler_errors") is None:
        details = "\n".join(
            "".join(traceback.format_exception(err)) for _, err in handler_errors.errors
        )
        pytest.fail(f"A handler raised:\n{details}")


def quiet(app: BandCoachApp) -> None:
    """Stop an app's background polling jobs: the test dispatches and fires timers itself."""
    assert app.job_queue is not None
    for job in app.job_queue.jobs():
        job.schedule_removal()


@pytest.fixture
def quiet_jobs(app: BandCoachApp) -> None:
    """Stop the background polling jobs: the tests dispatch and fire timers themselves."""
    quiet(app)


@pytest.fixture
def app_db(app: BandCoachApp) -> Database:
    """Return the database the running app uses."""
    return app.bot_data.db


@pytest.fixture
def user(fake: FakeTelegram, app: BandCoachApp) -> FakeUser:
    """Return a Telegram user talking to the running app."""
    return fake.user(424242, first_name="Alex")


@pytest.fixture
def debug_logs_without_token(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Log at DEBUG through the test, then fail if any record or traceback held the token."""
    caplog.set_level(logging.DEBUG)
    yield
    plain = logging.Formatter("%(name)s %(levelname)s %(message)s")
    secret = FAKE_TOKEN.split(":", 1)[1]
    leaked = [text for r in caplog.records if secret in (text := plain.format(r))]
    assert not leaked, leaked[:3]


@pytest.fixture(autouse=True)
def _quiet_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Keep library chatter out of failure output."""
    caplog.set_level(logging.WARNING, logger="httpx")
