"""What every benchmark shares: databases on both backends, SQL counters, figures and the run."""

from __future__ import annotations

import gc
import logging
import os
import platform
import shutil
import statistics
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock, ManualClock
from bot.config import Settings
from bot.context import BandCoachApp, BandCoachContext
from bot.fake_telegram import FakeTelegram
from bot.fake_telegram.harness import running_app
from storage.db import Database
from storage.migrate import upgrade

FAKE_TOKEN = "123456789:AAFakeTokenForBenchOnly_abcdefghijk"
START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday
BACKENDS = ("sqlite", "postgres")
LIBRARIES = ("python-telegram-bot", "sqlalchemy", "aiosqlite", "asyncpg", "apscheduler", "httpx")


@dataclass(frozen=True)
class Figure:
    """One measured figure, with the baseline it is compared to when there is one."""

    bench: str
    backend: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    target: str = ""

    @property
    def ratio(self) -> float | None:
        """Return value / baseline."""
        return self.value / self.baseline if self.baseline else None


@dataclass
class Report:
    """Every figure of a run, and what it ran on."""

    quick: bool
    figures: list[Figure] = field(default_factory=list)

    def add(self, *figures: Figure) -> None:
        """Record figures."""
        self.figures.extend(figures)

    def to_json(self) -> dict[str, Any]:
        """Return the run as JSON data: the machine, the versions, every figure."""
        versions: dict[str, str | None] = {}
        for name in LIBRARIES:
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                versions[name] = None
        return {
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "quick": self.quick,
            "machine": {
                "platform": platform.platform(),
                "processor": platform.processor() or platform.machine(),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            },
            "libraries": versions,
            "figures": [asdict(f) | {"ratio": f.ratio} for f in self.figures],
        }

    def table(self) -> str:
        """Return every figure as one aligned text table."""
        head = ("bench", "db", "figure", "value", "baseline", "ratio", "target")
        rows = [head]
        for f in self.figures:
            ratio = f"{f.ratio:.3f}×" if f.ratio is not None else ""
            base = _number(f.baseline) if f.baseline is not None else ""
            rows.append(
                (f.bench, f.backend, f.name, f"{_number(f.value)} {f.unit}", base, ratio, f.target)
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(line.rstrip() for line in lines)


def _number(value: float) -> str:
    """Format a figure: whole numbers with thousands separators, small ones with decimals."""
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0-100) of values, interpolated."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(q) - 1))]


# ---------------------------------------------------------------- databases


class PostgresServer:
    """One pgserver PostgreSQL for the whole run, started on first use."""

    def __init__(self) -> None:
        """Prepare; nothing starts until a database is asked for."""
        self._server: Any = None
        self._home: Path | None = None

    def url(self) -> str:
        """Create a fresh database and return its async URL."""
        if self._server is None:
            import pgserver

            logging.getLogger("pgserver").setLevel(logging.WARNING)
            self._home = Path(tempfile.mkdtemp(prefix="bandcoach-bench-pg-"))
            self._server = pgserver.get_server(self._home, cleanup_mode="stop")
        name = f"b_{uuid.uuid4().hex[:12]}"
        self._server.psql(f"CREATE DATABASE {name};")
        base = self._server.get_uri()
        return base.replace("postgresql://", "postgresql+asyncpg://").replace(
            "/postgres?", f"/{name}?"
        )

    def stop(self) -> None:
        """Stop the server and remove its files."""
        if self._server is not None:
            self._server.cleanup()
            shutil.rmtree(self._home or "", ignore_errors=True)
            self._server = None


POSTGRES = PostgresServer()


def database_url(backend: str, folder: Path) -> str:
    """Return the URL of a new, empty database on a backend."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
    return POSTGRES.url()


async def migrated(url: str) -> None:
    """Create the schema of a new database."""
    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


# ---------------------------------------------------------------- the app under test


@dataclass
class SqlCount:
    """Statements and transactions seen on an engine."""

    statements: int = 0
    transactions: int = 0


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[SqlCount]:
    """Count the SQL statements and transactions an engine runs inside the block."""
    count = SqlCount()

    def statement(*_args: Any) -> None:
        count.statements += 1

    def begin(*_args: Any) -> None:
        count.transactions += 1

    sync = engine.sync_engine
    event.listen(sync, "before_cursor_execute", statement)
    event.listen(sync, "begin", begin)
    try:
        yield count
    finally:
        event.remove(sync, "before_cursor_execute", statement)
        event.remove(sync, "begin", begin)


@dataclass
class Bot:
    """The real Application in front of an in-process fake Telegram, and its handler errors."""

    app: BandCoachApp
    fake: FakeTelegram
    errors: list[BaseException]

    def check(self) -> None:
        """Raise if a handler failed: a benchmark of a broken bot measures nothing."""
        if self.errors:
            raise RuntimeError(f"a handler raised: {self.errors[0]!r}")


@asynccontextmanager
async def running_bot(
    url: str, *, rate: float = 1000.0, clock: Clock | None = None, **settings: Any
) -> AsyncIterator[Bot]:
    """Run the bot on a migrated database with a stopped clock (no timer ticks unless moved)."""
    await migrated(url)
    fake = FakeTelegram(token=FAKE_TOKEN)
    config = Settings(
        telegram_bot_token=FAKE_TOKEN,  # type: ignore[arg-type]
        database_url=url,
        default_timezone="UTC",
        telegram_messages_per_second=rate,
        _env_file=None,  # type: ignore[call-arg]
        **settings,
    )
    errors: list[BaseException] = []

    async def record(update: object, context: BandCoachContext) -> None:
        """Keep a handler's exception so the run can fail loudly."""
        if context.error is not None:
            errors.append(context.error)

    async with running_app(config, fake, clock or ManualClock(START), on_error=record) as app:
        # Each bot here starts as a process's only bot does (freeze_startup_heap): its start-up
        # garbage collected, the rest frozen out of full collections. Otherwise the schema
        # objects its migrations built were collected in a timed part (a 60 ms pause in "50 at
        # once"), and every full collection walked this bot's start-up and the bots' before it.
        gc.collect()
        gc.freeze()
        try:
            yield Bot(app, fake, errors)
        finally:
            gc.unfreeze()  # this bot's objects may go; the next bot freezes what lives on
