"""Database faults: a PostgreSQL restart and a SQLite file held by another writer."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pgserver._commands import pg_ctl
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.clock import ManualClock
from bot.coaching import session_texts as t
from bot.coaching import texts
from bot.context import BandCoachApp
from bot.fake_telegram import FakeTelegram, FakeUser
from storage import db as storage_db
from storage.db import Database
from tests.conftest import HandlerErrors, running_app
from tests.flows import begin, current, logged, rows_of

# Every fault here runs with DEBUG logs on, and none of them may carry the token.
pytestmark = pytest.mark.usefixtures("debug_logs_without_token")


@pytest.mark.allow_handler_errors
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_postgresql_restart_costs_one_apology_and_loses_nothing(
    fake: FakeTelegram, user: FakeUser, app: BandCoachApp, app_db: Database, pg_server: Any
) -> None:
    admin = fake.user(777, first_name="Coach")
    app.bot_data.settings = app.bot_data.settings.model_copy(update={"admin_user_ids": (777,)})
    assert app.job_queue is not None
    app.job_queue.scheduler.pause()  # the 0.25 s timer poll would meet the outage first
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.DONE_LABEL)
    await user.tap(t.SKIP_REST_LABEL)
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pg_server.pgdata, user=pg_server.system_user)
    try:
        await user.tap(t.DONE_LABEL)  # the database is gone: nothing can be saved
        assert user.last_answer() == texts.DATABASE_BUSY[:190]
    finally:
        with pg_server._lock:
            pg_server.ensure_postgres_running()
    await user.tap(t.DONE_LABEL)  # the same button again, no restart of the bot
    row = await current(app_db, user.user_id)
    assert [(s.position, s.outcome) for s in await logged(app_db, row.id)] == [
        (0, "done"),
        (1, "done"),
    ]
    assert user.last_message().text.startswith("⏸ Rest")
    [notice] = [m.text for m in fake.bot_messages(admin.chat_id)]  # one, in plain words
    assert notice.startswith("⚠️ Database problem in updates") and "Traceback" not in notice
    assert not re.search(r"SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM", notice), notice


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_an_idle_connection_the_server_dropped_is_replaced_a_busy_one_fails_once(
    database_url: str, pg_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(database_url)
    name = make_url(database_url).database

    async def select_one() -> int:
        async with db.read() as session:
            return int((await session.execute(text("SELECT 1"))).scalar_one())

    def drop_connections() -> None:
        dropped = pg_server.psql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid();"
        )
        assert " 1\n" in dropped, dropped  # the pooled connection, killed by the server

    try:
        monkeypatch.setattr(storage_db, "IDLE_PING_AFTER", 0.0)  # every checkout counts as idle
        assert await select_one() == 1
        drop_connections()
        assert await select_one() == 1  # pinged, found dead, replaced: the caller never knew
        monkeypatch.setattr(storage_db, "IDLE_PING_AFTER", 3600.0)  # used a moment ago
        drop_connections()
        with pytest.raises(DBAPIError):
            await select_one()  # no ping under load: one transaction fails…
        assert await select_one() == 1  # …and the pool has been renewed
    finally:
        await db.dispose()


# Another process's write to the SQLite file: the 5 s (waited for) and 15 s (too long)
# against the default 10 s timeout, scaled down to a 2 s timeout to keep the suite quick.
BUSY_TIMEOUT = 2.0


@contextmanager
def held_by_another_writer(database_url: str) -> Iterator[Callable[[], None]]:
    """Hold the SQLite file's write lock from another connection; yield its release."""
    other = sqlite3.connect(database_url.split(":///", 1)[1], isolation_level=None,
                            check_same_thread=False)  # fmt: skip
    other.execute("BEGIN IMMEDIATE")

    def release() -> None:
        if other.in_transaction:
            other.execute("ROLLBACK")

    try:
        yield release
    finally:
        release()
        other.close()


@pytest.mark.allow_handler_errors
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_sqlite_file_held_by_another_writer_is_waited_for_then_called_busy(
    fake: FakeTelegram, database_url: str, clock: ManualClock, handler_errors: HandlerErrors
) -> None:
    user = fake.user(424242, first_name="Alex")
    settings = {"sqlite_busy_timeout": BUSY_TIMEOUT}
    async with running_app(database_url, fake, clock, handler_errors, **settings) as app:
        await begin(user, "upper", "✓ 2 rounds (suggested)")
        row = await current(app.bot_data.db, user.user_id)
        with held_by_another_writer(database_url) as release:
            asyncio.get_running_loop().call_later(BUSY_TIMEOUT / 2, release)
            await user.tap(t.DONE_LABEL)  # waits for the other writer, then saves
        assert [s.position for s in await logged(app.bot_data.db, row.id)] == [0]
        assert user.last_message().text.startswith("⏸ Rest")
        before = await rows_of(app.bot_data.db, [user.user_id])
        with held_by_another_writer(database_url):
            await user.tap(t.SKIP_REST_LABEL)  # held past the timeout
            assert user.last_answer() == texts.DATABASE_LOCKED[:190]
        assert await rows_of(app.bot_data.db, [user.user_id]) == before  # nothing half-written
        await user.tap(t.SKIP_REST_LABEL)  # the same button works again
        assert "Done" in str(user.buttons())
