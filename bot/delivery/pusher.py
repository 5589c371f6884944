"""Pushing live messages: one push per message at a time, always of its newest screen.

Each live message has at most one push in flight in this process; a push asked for meanwhile
marks the message dirty, and the push in flight goes round again with the newest screen, so a
burst of changes (countdown ticks, double taps) ends in one call with the last screen. Across
processes the lease in `live_messages.due_at` keeps two pushers apart.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta

from telegram import Bot

from bot.clock import Clock
from bot.coaching.screen import LiveRef, Screen
from bot.delivery.lanes import Lane, LaneLimiter
from bot.delivery.telegram import Kind, Result, show
from storage import live_messages as live
from storage.blocking import block_chat
from storage.db import Database

logger = logging.getLogger(__name__)

# Seconds before retrying after a failure with no retry_after: capped at 4 s so that, with the
# 1 s converge job, a screen reaches the member within 5 s of Telegram answering again.
BACKOFF = (1.0, 2.0, 4.0)
MAX_FLOOD_WAIT = 60.0
ROUNDS = 3  # pushes in a row for one message while newer screens keep arriving
KEEP_VERSIONS = 100_000  # rows whose newest version is remembered (about 10 MB at most)


def backoff(attempts: int) -> float:
    """Return the wait before retry number `attempts + 1`."""
    return BACKOFF[min(attempts, len(BACKOFF) - 1)]


class Pusher:
    """Sends or edits live messages and records what Telegram confirmed."""

    def __init__(self, bot: Bot, db: Database, clock: Clock, limiter: LaneLimiter) -> None:
        """Push through `bot`, keeping state in `db`, timing retries on `clock`."""
        self.bot, self.db, self.clock, self.limiter = bot, db, clock, limiter
        self.owner = uuid.uuid4().hex[:16]  # this process, when it claims a send
        self._flood_until: dict[int, datetime] = {}  # per chat, from Telegram's 429s
        self._locks: dict[int, asyncio.Lock] = {}
        self._known: dict[int, live.Pending] = {}  # rows just written, newest version each
        self._versions: OrderedDict[int, int] = OrderedDict()  # newest version seen per row
        # Newest version edited in per row, shown by Telegram but perhaps not recorded yet.
        self._shown: OrderedDict[int, int] = OrderedDict()
        self._users: dict[int, int] = {}
        self._dirty: set[int] = set()

    async def push(self, ref: LiveRef) -> None:
        """Bring one live message up to date, unless a push already in flight will.

        A ref that is a row just written (`live.Pending`) saves reading it back; the newest such
        row of a message is pushed, never one older than a version this process already had.
        """
        row_id = ref.id
        if isinstance(ref, live.Pending) and _remember(self._versions, row_id, ref.version):
            self._known[row_id] = ref  # a late, older row is read back instead
        self._dirty.add(row_id)
        lock = self._locks.setdefault(row_id, asyncio.Lock())
        self._users[row_id] = self._users.get(row_id, 0) + 1
        try:
            async with lock:
                for _ in range(ROUNDS):
                    if row_id not in self._dirty:
                        break
                    self._dirty.discard(row_id)
                    row = self._known.pop(row_id, None)
                    if row is None:
                        async with self.db.read() as session:
                            rows = await live.pending(session, [row_id])
                        row = rows[0] if rows else None
                        if row is not None and row.version <= self._shown.get(row_id, 0):
                            # Edited in already; its record is queued still, or was dropped.
                            self._record_edit(row, self.clock())
                            break
                    if row is None or not await self._push(row):
                        break
        finally:
            self._users[row_id] -= 1
            if not self._users[row_id]:
                del self._users[row_id], self._locks[row_id]
                self._known.pop(row_id, None)

    def _record_edit(self, row: live.Pending, now: datetime) -> None:
        """Queue the record that Telegram shows the row's screen in its message. Repeating an
        edit is harmless, so it waits to be written with the others of the next moment (one
        transaction for many); recorded twice, it changes nothing."""
        if row.message_id is not None:
            confirmed = live.Confirmed(row.id, row.version, row.message_id, now)
            self.db.defer(live.confirm_many, confirmed)
            _remember(self._shown, row.id, row.version)

    async def _push(self, row: live.Pending) -> bool:
        """Send or edit one screen and record the outcome; True if Telegram shows it."""
        now = self.clock()
        if row.message_id is None and row.unsure_sends >= live.UNSURE_LIMIT:
            # Two sends timed out and may both have arrived: a third copy is not sent. A tap on
            # one of them, or a move to a new message, takes the screen up again.
            await self._write(lambda session: live.retry_at(session, row.id, row.version, None))
            return False
        flood = self._flood_until.get(row.chat_id)
        if flood is not None and now < flood:  # Telegram asked this chat to wait: no call
            await self._write(lambda session: live.retry_at(session, row.id, row.version, flood))
            return False
        if row.message_id is None and not await self._claim_send(row, now):
            return False  # another process is sending this screen right now
        if await self.limiter.acquire(Lane(row.lane)):
            result = await show(self.bot, row.chat_id, row.message_id, Screen.from_json(row.screen))
        else:
            result = Result(Kind.DROPPED)
        gone = await self._record(row, result)
        if gone:
            return await self._push(replace(row, message_id=None))
        return result.kind is Kind.SHOWN

    async def _record(self, row: live.Pending, result: Result) -> bool:
        """Store the outcome of a push; True when the message is gone and a new one is due."""
        now = self.clock()
        gone = False
        if result.kind is Kind.SHOWN and row.message_id is not None:
            self._record_edit(row, now)  # an edit; a new message's id is stored at once
            return False
        async with self.db.write() as session:
            if result.kind is Kind.SHOWN:
                assert result.message_id is not None
                await live.confirm(session, row.id, row.version, result.message_id, now)
            elif result.kind is Kind.BLOCKED:
                if await block_chat(session, row.chat_id, now):
                    logger.info("Chat %s blocked the bot; its messages and timers are stopped",
                                row.chat_id)  # fmt: skip
            elif result.kind is Kind.GONE:
                assert row.message_id is not None
                gone = await live.forget_message(session, row.id, row.message_id)
            elif result.kind in (Kind.FAILED, Kind.DROPPED):
                await live.retry_at(session, row.id, row.version, None)
            else:
                unsure = result.kind is Kind.UNSURE
                wait = min(result.wait, MAX_FLOOD_WAIT) or backoff(row.attempts)
                if result.wait:  # a 429: every push to this chat waits, not just this one
                    self._flood_until[row.chat_id] = now + timedelta(seconds=wait)
                last = unsure and row.unsure_sends + 1 >= live.UNSURE_LIMIT
                due = None if last else now + timedelta(seconds=wait)
                await live.retry_at(session, row.id, row.version, due, unsure=unsure)
        if result.kind is Kind.FAILED:
            logger.warning("Gave up on live message %s (chat %s): %s", row.id, row.chat_id,
                           result.detail)  # fmt: skip
        return gone

    async def _claim_send(self, row: live.Pending, now: datetime) -> bool:
        """Take the right to send a new message, so two processes never both send it."""
        async with self.db.write() as session:
            return await live.claim_send(session, row.id, row.version, self.owner, now)

    async def _write(self, change: Callable[..., Awaitable[None]]) -> None:
        """Run one change in a write transaction."""
        async with self.db.write() as session:
            await change(session)


def _remember(newest: OrderedDict[int, int], row_id: int, version: int) -> bool:
    """Keep `version` as a row's newest in a bounded map; False if it already had a newer one."""
    if version <= newest.get(row_id, 0):
        return False
    newest[row_id] = version
    newest.move_to_end(row_id)
    if len(newest) > KEEP_VERSIONS:
        newest.popitem(last=False)
    return True
