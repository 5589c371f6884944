"""Database faults: a PostgreSQL restart and a SQLite file held by another writer."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from pgserver._commands import pg_ctl

from bot.coaching import session_texts as t
from bot.coaching import texts
from bot.fake_telegram import FakeTelegram, FakeUser
from storage.db import Database
from tests.flows import begin, current, logged, onboard


@pytest.mark.allow_handler_errors
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_postgresql_restart_costs_one_apology_and_loses_nothing(
    fake: FakeTelegram, user: FakeUser, app_db: Database, pg_server: Any
) -> None:
    await begin(user, "upper", "✓ 2 (suggested)")
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


@pytest.mark.allow_handler_errors
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_sqlite_file_held_by_another_writer_gets_a_busy_answer_then_works(
    fake: FakeTelegram, user: FakeUser, database_url: str, app_db: Database
) -> None:
    await onboard(user)
    path = database_url.split(":///", 1)[1]
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the file past the busy timeout
        await user.send("/reminders")
        assert user.last_message().text == texts.DATABASE_LOCKED
    finally:
        other.execute("ROLLBACK")
        other.close()
    await user.send("/reminders")
    assert user.buttons()[0] == ["📅 Days", "🕖 Time"]  # the menu: the database works again
