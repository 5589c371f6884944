"""Alembic environment: runs on a connection handed in by storage.migrate, or on its own."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    """Configure Alembic for a live connection and run the migrations."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_standalone() -> None:
    """Open the configured database (the `alembic` CLI path) and migrate it."""
    from bot.config import load_settings

    db = Database(load_settings().async_database_url())
    try:
        async with db.write_engine.begin() as conn:
            await conn.run_sync(run_on)
    finally:
        await db.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline SQL generation is not supported; run `bandcoach migrate`.")

shared = config.attributes.get("connection")
if shared is not None:
    run_on(shared)
else:
    asyncio.run(run_standalone())
