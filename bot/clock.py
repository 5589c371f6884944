"""Injectable clocks: scheduling code asks the app's clock, never the wall clock directly."""

from __future__ import annotations

import time
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


class ScaledClock:
    """A clock running `factor` times faster than the wall clock, from its start instant."""

    def __init__(
        self,
        factor: float,
        start: datetime | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start at `start` (default: now) and run `factor` app seconds per wall second."""
        if factor <= 0:
            raise ValueError("ScaledClock needs a positive factor")
        start = system_clock() if start is None else start
        if start.tzinfo is None:
            raise ValueError("ScaledClock needs an aware datetime")
        self.factor = float(factor)
        self.start = start.astimezone(UTC)
        self._monotonic = monotonic
        self._origin = monotonic()

    def __call__(self) -> datetime:
        """Return the start instant plus the wall time elapsed since then, times the factor."""
        elapsed = self._monotonic() - self._origin
        return self.start + timedelta(seconds=elapsed * self.factor)


def clock_speed(clock: object) -> float:
    """Return how many app seconds pass per wall second on a clock (1 unless it is scaled)."""
    return clock.factor if isinstance(clock, ScaledClock) else 1.0
