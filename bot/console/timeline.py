"""The console's app clock: 10x with --fast, and never earlier than where the last chat ended.

A --fast chat moves the app's time ahead of the wall clock, and the database keeps timestamps
from that future (a rest due at 07:42 when it is 07:31). The next chat starts its clock where
the last one stopped, so those timers still fire when they should.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from bot.clock import Clock, ScaledClock, system_clock

logger = logging.getLogger(__name__)

FAST_FACTOR = 10.0


def load_instant(path: Path) -> datetime | None:
    """Return the app time a previous chat saved, or None if there is none (or it is unreadable)."""
    try:
        moment = datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        logger.warning("Ignoring an unreadable console clock file %s", path)
        return None
    return moment if moment.tzinfo is not None else None


def save_instant(path: Path, moment: datetime) -> None:
    """Remember where the app clock stopped, for the next chat."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(moment.isoformat(), encoding="utf-8")
    except OSError:
        logger.warning("Could not save the console clock to %s", path, exc_info=True)


def console_clock(fast: bool, saved: datetime | None, now: datetime | None = None) -> Clock:
    """Return the app clock: 10x with `fast`, starting at the later of now and `saved`."""
    now = system_clock() if now is None else now
    start = max(now, saved) if saved is not None else now
    if fast:
        return ScaledClock(FAST_FACTOR, start)
    return ScaledClock(1.0, start) if start > now else system_clock
