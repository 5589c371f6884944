"""Delivery: the only code that sends or edits Telegram messages.

Services return a Reply. Its live messages are already in the database (written in the same
transaction as the change they show), so delivery only has to bring Telegram up to date: at
once from the process that made the change, and otherwise from the converge job, which retries
whatever Telegram refused or never answered (429, 5xx, timeouts, outages, a killed process)
and runs over everything pending at start-up. Nothing here raises into a handler: a change that
committed is never reported to the member as a failure.

Duplicates: an edit is safe to repeat. A new message whose send timed out may have been
delivered, and Telegram gives no way to check; it is retried once, never more, so a member sees
at most one duplicate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta

from telegram import Bot, CallbackQuery, Update
from telegram.error import TelegramError

from bot.clock import Clock
from bot.coaching.screen import Reply, Screen
from bot.delivery.lanes import Lane, LaneLimiter
from bot.delivery.telegram import Kind, Result, markup, show
from storage import live_messages as live
from storage.blocking import block_chat
from storage.db import Database

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
FailureReport = Callable[[BaseException, str], Awaitable[None]]

# Seconds before retrying after a failure with no retry_after: capped at 4 s so that, with the
# 1 s converge job, a screen reaches the member within 5 s of Telegram answering again.
BACKOFF = (1.0, 2.0, 4.0)
REPLY_TRIES = 5  # a one-off reply is tried this often (about 7 s of retries) and then dropped
MAX_FLOOD_WAIT = 60.0
BATCH = 200


def backoff(attempts: int) -> float:
    """Return the wait before retry number `attempts + 1`."""
    return BACKOFF[min(attempts, len(BACKOFF) - 1)]


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
    ) -> None:
        """Deliver through `bot`, keeping state in `db`, timing retries on `clock`."""
        self.bot, self.db, self.clock, self.limiter = bot, db, clock, limiter
        self.sleep = sleep
        self.on_failure = on_failure

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

    async def answer(self, query: CallbackQuery, text: str | None, *, alert: bool = False) -> None:
        """Answer a button tap (a toast, or nothing); a query too old to answer is fine."""
        try:
            await query.answer(text[:200] if text else None, show_alert=alert)
        except TelegramError as exc:
            logger.debug("Could not answer callback query %s: %s", query.id, exc)

    async def once(
        self,
        chat_id: int,
        screen: Screen,
        *,
        message_id: int | None = None,
        lane: Lane = Lane.REPLY,
    ) -> int | None:
        """Send (or edit) a screen nothing else keeps: retried for a few seconds, then dropped."""
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
                if unsure:
                    break
                unsure = True
            await self.sleep(min(result.wait, MAX_FLOOD_WAIT) or backoff(attempt))
        logger.warning("Gave up on a message to chat %s after %d tries", chat_id, REPLY_TRIES)
        return None

    async def send_in_lane(self, chat_id: int, screen: Screen, lane: Lane) -> int:
        """Send one new message in a lane and return its id; Telegram's errors are raised.

        For callers with retry rules of their own (the reminder dispatcher).
        """
        await self.limiter.acquire(lane)
        sent = await self.bot.send_message(chat_id, screen.text, reply_markup=markup(screen))
        return sent.message_id

    async def push(self, ids: Sequence[int]) -> None:
        """Bring these live messages up to date now (the converge job retries what fails)."""
        if not ids:
            return
        try:
            async with self.db.read() as session:
                rows = await live.pending(session, ids)
        except Exception as exc:  # the change committed: the converge job will show it
            await self._failed(exc, "delivery")
            return
        await asyncio.gather(*(self._push(row) for row in rows))

    async def converge(self, *, startup: bool = False) -> int:
        """Push every live message whose retry is due (at start-up: all unconfirmed ones)."""
        now = self.clock()
        if not startup:
            async with self.db.read() as session:
                if not await live.due_ids(session, now, 1):
                    return 0
        async with self.db.write() as session:
            rows = await live.claim_due(session, now, BATCH, everything=startup)
        await asyncio.gather(*(self._push(row) for row in rows))
        return len(rows)

    # ------------------------------------------------------------ one live message

    async def _push(self, row: live.Pending) -> None:
        """Send or edit one live message and record what Telegram said."""
        screen = Screen.from_json(row.screen)
        lane = Lane(row.lane)
        if await self.limiter.acquire(lane):
            result = await show(self.bot, row.chat_id, row.message_id, screen)
        else:
            result = Result(Kind.DROPPED)
        try:
            await self._record(row, result)
        except Exception as exc:  # Telegram may show it; the row stays due and is retried
            await self._failed(exc, "delivery")
            return
        if result.kind is Kind.GONE:
            await self._push(replace(row, message_id=None))

    async def _record(self, row: live.Pending, result: Result) -> None:
        """Store the outcome of a push: confirmed, retried later, or given up."""
        now = self.clock()
        async with self.db.write() as session:
            if result.kind is Kind.SHOWN:
                assert result.message_id is not None
                await live.confirm(session, row.id, row.version, result.message_id)
            elif result.kind is Kind.BLOCKED:
                if await block_chat(session, row.chat_id, now):
                    logger.info("Chat %s blocked the bot; its messages and timers are stopped",
                                row.chat_id)  # fmt: skip
            elif result.kind is Kind.GONE:
                assert row.message_id is not None
                await live.forget_message(session, row.id, row.message_id)
            elif _gives_up(row, result) or result.kind is Kind.DROPPED:
                await live.retry_at(session, row.id, row.version, None)
            else:
                wait = min(result.wait, MAX_FLOOD_WAIT) or backoff(row.attempts)
                due = now + timedelta(seconds=wait)
                await live.retry_at(session, row.id, row.version, due,
                                    unsure=result.kind is Kind.UNSURE)  # fmt: skip
        if _gives_up(row, result):
            logger.warning("Gave up on live message %s (chat %s): %s", row.id, row.chat_id,
                           result.detail or result.kind.value)  # fmt: skip

    async def _blocked(self, chat_id: int) -> None:
        """Record that a chat blocked the bot (logged once)."""
        try:
            async with self.db.write() as session:
                newly = await block_chat(session, chat_id, self.clock())
        except Exception as exc:
            await self._failed(exc, "delivery")
            return
        if newly:
            logger.info("Chat %s blocked the bot; its messages and timers are stopped", chat_id)

    async def _failed(self, exc: BaseException, where: str) -> None:
        """Report a failure of delivery's own bookkeeping."""
        if self.on_failure is not None:
            await self.on_failure(exc, where)
        else:
            logger.error("Delivery failed", exc_info=exc)


def _gives_up(row: live.Pending, result: Result) -> bool:
    """Return True when retrying cannot help, or could send a second duplicate."""
    return result.kind is Kind.FAILED or (result.kind is Kind.UNSURE and row.unsure_sends >= 1)
