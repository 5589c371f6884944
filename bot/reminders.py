"""The reminder dispatcher: claim due slots in the database, then send the nudges.

Called every POLL_SECONDS by one JobQueue job, and once at start-up, so a slot missed during
downtime meets the grace rule. Cost per tick is proportional to the slots due: the due
queries are indexed and bounded by BATCH.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot import progress
from bot.clock import Clock
from bot.coaching import checkin_texts, reminder_texts
from bot.coaching.schedule import Action
from bot.context import (
    CATALOGUE_KEY,
    CLOCK_KEY,
    DB_KEY,
    SETTINGS_KEY,
    BandCoachApp,
    BandCoachContext,
)
from handlers.checkin import first_question
from handlers.reminder_keyboards import nudge_keyboard
from storage import reminders as store
from storage.db import Database

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
SLEEP_KEY = "sleep"  # bot_data entry; tests put a sleep there that moves a ManualClock

JOB_NAME = "reminders"
POLL_SECONDS = 30
MISFIRE_GRACE_SECONDS = 20  # a tick late by more than this is dropped; the next one catches up
JOB_KWARGS: dict[str, Any] = {
    "misfire_grace_time": MISFIRE_GRACE_SECONDS,
    "coalesce": True,
    "max_instances": 1,
}
BATCH = 500
MAX_BATCHES = 20  # per tick; anything left over is picked up 30 s later
CONCURRENT_SENDS = 16  # PTB's AIORateLimiter keeps the overall rate near 30 messages/s
NETWORK_ATTEMPTS = 3
NETWORK_BACKOFF_SECONDS = 2.0
BLOCKED = "blocked"


@dataclass
class DispatchStats:
    """What one dispatcher run did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    resent_after_429: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Outcome:
    """How sending one nudge ended."""

    status: str
    attempts: int
    detail: str | None = None
    flood_waits: int = 0


def _retry_seconds(exc: RetryAfter) -> float:
    """Return retry_after in seconds, whether PTB gives an int or (later) a timedelta."""
    with warnings.catch_warnings():  # PTB 22 warns that the type will become timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def send_nudge(app: BandCoachApp, claim: store.Claim, sleep: Sleep) -> Outcome:
    """Send one nudge: 429 → wait and resend once; network/5xx → bounded retries; 403 → stop."""
    if claim.kind == store.FOLLOWUP and claim.session_id is not None:
        text, markup = first_question(claim.session_id, checkin_texts.FOLLOWUP)
    else:
        catalogue = app.bot_data.get(CATALOGUE_KEY)
        prescription = None
        if catalogue is not None:
            async with app.bot_data[DB_KEY].read() as session:
                prescription = await progress.prescription(session, catalogue, claim.user_id)
        text = reminder_texts.nudge(
            name=claim.first_name,
            goal=claim.goal,
            band=claim.band,
            catalogue=catalogue,
            last_routine=claim.last_routine,
            snoozed=claim.kind == store.SNOOZE,
            prescription=prescription,
        )
        markup = nudge_keyboard(claim.slot_id)
    attempts = flood_waits = network_failures = 0
    while True:
        attempts += 1
        try:
            await app.bot.send_message(claim.chat_id, text, reply_markup=markup)
            return Outcome(store.SENT, attempts, flood_waits=flood_waits)
        except Forbidden as exc:
            return Outcome(BLOCKED, attempts, f"403: {exc.message}", flood_waits)
        except RetryAfter as exc:
            if flood_waits:
                return Outcome(store.FAILED, attempts, f"429 twice: {exc.message}", flood_waits)
            flood_waits += 1
            await sleep(_retry_seconds(exc))
        except BadRequest as exc:  # a NetworkError subclass in PTB, but retrying cannot help
            return Outcome(store.FAILED, attempts, f"400: {exc.message}", flood_waits)
        except NetworkError as exc:  # timeouts, connection errors and 5xx
            network_failures += 1
            if network_failures >= NETWORK_ATTEMPTS:
                return Outcome(store.FAILED, attempts, f"network: {exc.message}", flood_waits)
            await sleep(NETWORK_BACKOFF_SECONDS * network_failures)
        except TelegramError as exc:
            return Outcome(store.FAILED, attempts, f"telegram: {exc.message}", flood_waits)


async def _claim_batch(
    db: Database, now: datetime, grace: timedelta
) -> tuple[list[store.Claim], bool]:
    """Claim up to BATCH due recurring and pending slots; return them and whether more wait."""
    async with db.read() as session:
        due = await store.due_users(session, now, BATCH)
        pending = await store.due_pending_slots(session, now, BATCH)
    claims: list[store.Claim] = []
    for user_id, due_at in due:
        async with db.write() as session:
            claim = await store.claim_scheduled(session, user_id, due_at, now, grace)
        if claim is not None:
            claims.append(claim)
    for slot_id in pending:
        async with db.write() as session:
            claim = await store.claim_pending(session, slot_id, now, grace)
        if claim is not None:
            claims.append(claim)
    return claims, len(due) == BATCH or len(pending) == BATCH


async def _deliver(
    app: BandCoachApp, claim: store.Claim, sleep: Sleep, gate: asyncio.Semaphore
) -> Outcome:
    """Send one claimed nudge and record how it ended."""
    async with gate:
        outcome = await send_nudge(app, claim, sleep)
    db = cast(Database, app.bot_data[DB_KEY])
    now = cast(Clock, app.bot_data[CLOCK_KEY])()
    async with db.write() as session:
        if outcome.status == BLOCKED:
            await store.stop_for_blocked(session, claim.user_id)
        status = store.FAILED if outcome.status == BLOCKED else outcome.status
        await store.finish(
            session,
            claim.slot_id,
            status,
            attempts=outcome.attempts,
            now=now,
            detail=outcome.detail,
        )
    if outcome.status == store.FAILED:
        logger.warning(
            "Gave up on %s slot %s for user %s: %s",
            claim.kind,
            claim.slot_id,
            claim.user_id,
            outcome.detail,
        )
    elif outcome.status == BLOCKED:
        logger.info("User %s blocked the bot; their reminders are stopped", claim.user_id)
    return outcome


def _log_skip(claim: store.Claim, now: datetime) -> None:
    """Log a skipped slot; stale ones at WARNING, since they mean the bot was down."""
    if claim.action is Action.STALE:
        logger.warning(
            "Skipped a stale %s for user %s due at %s (now %s)",
            claim.kind,
            claim.user_id,
            claim.due_at.isoformat(),
            now.isoformat(),
        )
    else:
        logger.info("Skipped %s for user %s: %s", claim.kind, claim.user_id, claim.action.value)


async def dispatch_due(app: BandCoachApp, now: datetime | None = None) -> DispatchStats:
    """Claim every slot due by `now` and send the nudges; return what happened."""
    db = cast(Database, app.bot_data[DB_KEY])
    now = now or cast(Clock, app.bot_data[CLOCK_KEY])()
    grace = timedelta(minutes=app.bot_data[SETTINGS_KEY].reminder_grace_minutes)
    sleep = cast(Sleep, app.bot_data.get(SLEEP_KEY, asyncio.sleep))
    gate = asyncio.Semaphore(CONCURRENT_SENDS)
    stats = DispatchStats()
    for _ in range(MAX_BATCHES):
        claims, more = await _claim_batch(db, now, grace)
        stats.claimed += len(claims)
        for claim in claims:
            if claim.action is not Action.SEND:
                stats.skipped[claim.action.value] += 1
                _log_skip(claim, now)
        to_send = [c for c in claims if c.action is Action.SEND]
        results = await asyncio.gather(
            *(_deliver(app, c, sleep, gate) for c in to_send), return_exceptions=True
        )
        for claim, outcome in zip(to_send, results, strict=True):
            if isinstance(outcome, BaseException):
                logger.error("Reminder slot %s failed", claim.slot_id, exc_info=outcome)
                stats.failed += 1
                continue
            stats.sent += outcome.status == store.SENT
            stats.failed += outcome.status == store.FAILED
            stats.blocked += outcome.status == BLOCKED
            stats.resent_after_429 += outcome.flood_waits
        if not more:
            break
    return stats


async def reminder_job(context: BandCoachContext) -> None:
    """JobQueue callback: dispatch whatever is due now."""
    stats = await dispatch_due(context.application, context.clock())
    if stats.claimed:
        logger.info(
            "Reminders: %s claimed, %s sent, %s failed, %s blocked, skipped %s",
            stats.claimed,
            stats.sent,
            stats.failed,
            stats.blocked,
            dict(stats.skipped),
        )
