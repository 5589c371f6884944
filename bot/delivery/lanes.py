"""Priority lanes inside Telegram's overall limit of about 30 messages a second.

PTB's AIORateLimiter keeps one FIFO queue, so a member's reply waits behind a whole reminder
broadcast. Here one pump takes aiolimiter's tokens one at a time and hands each to the most
urgent waiter. Calls a member is waiting for go first, by deadline: a reply to their own tap
at once, the end of a timer within TIMER_ALLOWANCE (so replies go ahead of a timer's end for
that long, and a steady stream of taps cannot hold it back for longer). Broadcasts come after
them. Countdown ticks never wait: when the budget is short they are dropped, since only the
newest tick matters and the next one supersedes it.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from enum import IntEnum

from aiolimiter import AsyncLimiter

# Calls leave at 95 % of the budget: at full speed Telegram's own bucket is empty, and a call
# that reached it a little sooner than the one before (network jitter) would get a 429.
HEADROOM = 0.95
TIMER_ALLOWANCE = 0.2  # seconds a timer's end lets replies that came after it go first


class Lane(IntEnum):
    """How urgent a Bot API call is; lower goes first."""

    REPLY = 0  # the answer to the member's own tap or message
    TIMER = 1  # a timer or rest ended: the message that tells the member to move
    BROADCAST = 2  # reminders and follow-ups
    TICK = 3  # countdown updates: dropped, not queued, when the budget is short


def place(lane: Lane, now: float) -> tuple[int, float]:
    """Return where a call queued at `now` stands: calls a member waits for (replies and the
    ends of timers) by deadline, ahead of broadcasts, which go in turn."""
    if lane is Lane.REPLY:
        return 0, now
    if lane is Lane.TIMER:
        return 0, now + TIMER_ALLOWANCE
    return int(lane), now


class LaneLimiter:
    """Admit calls by lane within one overall rate."""

    def __init__(self, rate: float = 30.0) -> None:
        """Allow `rate` calls a second overall (a one-second burst at most), less HEADROOM."""
        self._limiter = AsyncLimiter(max(rate * HEADROOM, 1.0), 1.0)  # aiolimiter needs ≥ 1
        self._waiting: list[tuple[int, float, int, Lane, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._pump: asyncio.Task[None] | None = None
        self.dropped = 0

    def queued(self, lane: Lane | None = None) -> int:
        """Return how many calls wait (in one lane, or in all)."""
        return sum(1 for w in self._waiting if lane is None or w[3] == lane)

    async def acquire(self, lane: Lane) -> bool:
        """Wait for this call's turn; False (at once) for a tick that would have to wait."""
        if lane is Lane.TICK and not self._limiter.has_capacity(len(self._waiting) + 1):
            self.dropped += 1  # the budget is short: the next tick supersedes this one
            return False
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiting, (*place(lane, loop.time()), next(self._order), lane, future))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run(), name="delivery-lanes")
        await future
        return True

    async def _run(self) -> None:
        """Hand out tokens, one at a time, to the most urgent waiter."""
        try:
            while self._waiting:
                await self._limiter.acquire()
                while self._waiting:
                    *_, future = heapq.heappop(self._waiting)
                    if not future.done():  # a cancelled waiter gives its turn to the next one
                        future.set_result(None)
                        break
        except BaseException as exc:  # never leave a waiter hanging
            for *_, future in self._waiting:
                if not future.done():
                    future.set_exception(RuntimeError(f"delivery lanes stopped: {exc!r}"))
            self._waiting.clear()
            if not isinstance(exc, asyncio.CancelledError):
                raise

    async def close(self) -> None:
        """Stop the pump (at shutdown)."""
        if self._pump is not None and not self._pump.done():
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
