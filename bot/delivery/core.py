"""Delivery: the only code that sends or edits Telegram messages.

Services return a Reply. Its live messages are already in the database (written in the same
transaction as the change they show), so delivery only has to bring Telegram up to date: at
once from the process that made the change, and otherwise from the converge job, which retries
whatever Telegram refused or never answered (429, 5xx, timeouts, outages, a killed process)
and runs over everything pending at start-up. Nothing here raises into a handler: a change that
committed is never reported to the member as a failure.

Duplicates: an edit is safe to repeat. A new message whose send timed out may have been
delivered, and Telegram gives no way to check; it is retried once, never more, so a member sees
at most one duplicate (storage.live_messages.UNSURE_LIMIT).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from telegram import Bot, CallbackQuery, Update
from telegram.error import TelegramError

from bot.clock import Clock
from bot.coaching.screen import Attachment, LiveRef, Reply, Screen
from bot.delivery.lanes import Lane, LaneLimiter
from bot.delivery.pusher import MAX_FLOOD_WAIT, Pusher, backoff
from bot.delivery.telegram import Kind, raw, show
from storage import live_messages as live
from storage.blocking import block_chat
from storage.db import Database

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
FailureReport = Callable[[BaseException, str], Awaitable[None]]
SuccessReport = Callable[[str], Awaitable[None]]

REPLY_TRIES = 5  # a one-off reply is tried this often (about 7 s of retries) and then dropped
BATCH = 200
WHERE = "delivery"  # the name failures of delivery's own work are reported under


class Delivery:
    """Renders screens to Telegram inside its limits and keeps live messages converged."""

    def __init__(
        self,
        bot: Bot,
        db: Database,
        clock: Clock,
        limiter: LaneLimiter,
        *,
        sleep: Sleep = asyncio.sleep,
        on_failure: FailureReport | None = None,
        on_success: SuccessReport | None = None,
    ) -> None:
        """Deliver through `bot`, keeping state in `db`, timing retries on `clock`."""
        self.bot, self.db, self.clock, self.limiter = bot, db, clock, limiter
        self.sleep = sleep
        self.on_failure, self.on_success = on_failure, on_success
        self.pusher = Pusher(bot, db, clock, limiter)
        self._background: set[asyncio.Task[None]] = set()
        self._converging: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ what handlers and jobs call

    async def reply(self, update: Update, reply: Reply) -> None:
        """Show a service's reply to an update: toast, edit, live messages, new messages."""
        query, chat = update.callback_query, update.effective_chat
        if query is not None:
            await self.answer(query, reply.answer, alert=reply.alert)
        if chat is None:
            return
        if reply.edit is not None:
            message = query.message if query is not None else None
            target = message.message_id if message is not None else None
            await self.once(chat.id, reply.edit, message_id=target)
        await self.push(reply.live)
        for screen in reply.send:
            await self.once(chat.id, screen)
        for file in reply.files:
            await self.once(chat.id, file)

    async def answer(self, query: CallbackQuery, text: str | None, *, alert: bool = False) -> None:
        """Answer a button tap (a toast, or nothing); a query too old to answer is fine."""
        try:
            await query.answer(text[:200] if text else None, show_alert=alert)
        except TelegramError as exc:
            logger.debug("Could not answer callback query %s: %s", query.id, exc)

    async def once(
        self,
        chat_id: int,
        screen: Screen | Attachment,
        *,
        message_id: int | None = None,
        lane: Lane = Lane.REPLY,
    ) -> int | None:
        """Send (or edit) a screen or file nothing else keeps; retried for seconds, then dropped."""
        unsure = False
        for attempt in range(REPLY_TRIES):
            if not await self.limiter.acquire(lane):
                return None
            result = await show(self.bot, chat_id, message_id, screen)
            if result.kind is Kind.SHOWN:
                return result.message_id
            if result.kind is Kind.BLOCKED:
                await self._blocked(chat_id)
                return None
            if result.kind is Kind.FAILED:
                logger.warning("Telegram refused a message to chat %s: %s", chat_id, result.detail)
                return None
            if result.kind is Kind.GONE:
                message_id = None
                continue
            if result.kind is Kind.UNSURE:
                if unsure:  # a second copy may already be there: no third
                    break
                unsure = True
            await self.sleep(min(result.wait, MAX_FLOOD_WAIT) or backoff(attempt))
        logger.warning("Gave up on a message to chat %s", chat_id)
        return None

    async def send_in_lane(self, chat_id: int, screen: Screen, lane: Lane) -> int:
        """Send one new message in a lane and return its id; Telegram's errors are raised.

        For callers with retry rules of their own (the reminder dispatcher).
        """
        await self.limiter.acquire(lane)
        return int((await raw(self.bot, "sendMessage", chat_id, screen))["message_id"])

    async def push(self, refs: Sequence[LiveRef]) -> None:
        """Bring these live messages up to date now (the converge job retries what fails)."""
        results = await asyncio.gather(*(self.pusher.push(r) for r in refs), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):  # the change committed: it is shown later
                await self._failed(result)
                break

    def push_soon(self, refs: Sequence[LiveRef]) -> None:
        """Push these live messages in the background (jobs must not wait on Telegram)."""
        if refs:
            self._spawn(self.push(refs))

    async def converge(self, *, startup: bool = False) -> int:
        """Push every live message whose retry is due (at start-up: all unconfirmed ones).

        Raises the first failure after trying every message.
        """
        now = self.clock()
        if not startup:
            async with self.db.read() as session:
                if not await live.due_ids(session, now, 1):
                    return 0
        pushed = 0
        while True:
            async with self.db.write() as session:
                rows = await live.claim_due(session, now, BATCH, startup=startup)
            results = await asyncio.gather(
                *(self.pusher.push(row) for row in rows), return_exceptions=True
            )
            for result in results:
                if isinstance(result, Exception):
                    raise result
            pushed += len(rows)
            if len(rows) < BATCH:
                return pushed

    def converge_soon(self) -> None:
        """Run converge in the background unless it is still running from the last tick."""
        if self._converging is None or self._converging.done():
            self._converging = self._spawn(self._converge_and_report())

    async def settle(self) -> None:
        """Wait until every background push and converge has finished and is recorded."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.db.flush_deferred()

    async def close(self) -> None:
        """Stop background pushes and the lanes, and record what was shown (at shutdown)."""
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.limiter.close()
        try:
            await self.db.flush_deferred()
        except Exception as exc:  # unrecorded edits are pushed again, harmlessly, at start-up
            logger.warning("Could not record the last confirmed edits: %r", exc)

    # ------------------------------------------------------------ helpers

    async def _converge_and_report(self) -> None:
        """Converge once, reporting a failure or a success to the alerts."""
        try:
            await self.converge()
        except Exception as exc:
            await self._failed(exc)
        else:
            if self.on_success is not None:
                await self.on_success(WHERE)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run work in the background, keeping a reference until it ends."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _blocked(self, chat_id: int) -> None:
        """Record that a chat blocked the bot (logged once)."""
        try:
            async with self.db.write() as session:
                newly = await block_chat(session, chat_id, self.clock())
        except Exception as exc:
            await self._failed(exc)
            return
        if newly:
            logger.info("Chat %s blocked the bot; its messages and timers are stopped", chat_id)

    async def _failed(self, exc: BaseException) -> None:
        """Report a failure of delivery's own bookkeeping."""
        if self.on_failure is not None:
            await self.on_failure(exc, WHERE)
        else:
            logger.error("Delivery failed", exc_info=exc)
