"""Injectable clocks: scheduling code asks the app's clock, never the wall clock directly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Return the real current time, aware UTC."""
    return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to; for tests and simulations."""

    def __init__(self, start: datetime) -> None:
        """Start at an aware datetime."""
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        """Return the clock's current time."""
        return self.now

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by a timedelta or a number of seconds and return the new time."""
        self.now += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        return self.now

    def set(self, moment: datetime) -> None:
        """Jump to an aware datetime."""
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self.now = moment.astimezone(UTC)
