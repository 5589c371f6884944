"""The reminder dispatcher: claim due slots in the database, then send the nudges.

Called every POLL_SECONDS by one JobQueue job, and once at start-up, so a slot missed during
downtime meets the grace rule. Cost per tick is proportional to the slots due: the due
queries are indexed and bounded by BATCH.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.coaching import checkin_texts, morning, reminder_texts
from bot.coaching.checkin_keyboards import first_question
from bot.coaching.reminder_keyboards import nudge_keyboard
from bot.coaching.reminder_texts import local_date
from bot.coaching.schedule import Action
from bot.coaching.screen import Screen
from bot.context import BandCoachContext, BotData
from bot.delivery import Lane
from bot.delivery.telegram import maybe_delivered, retry_seconds
from storage import reminders as store
from storage.blocking import block_chat
from storage.db import Database
from storage.models import WorkoutSession
from storage.progress import load_prescriptions
from storage.sessions import get_session

logger = logging.getLogger(__name__)

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
CONCURRENT_SENDS = 16  # delivery's broadcast lane keeps the overall rate near 30 messages/s
NETWORK_ATTEMPTS = 3
NETWORK_BACKOFF_SECONDS = 2.0
BLOCKED = "blocked"
RELEASED = "released"  # not sent because the bot is stopping: pending again, for the next start


@dataclass
class DispatchStats:
    """What one dispatcher run did."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    resent_after_429: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errors: list[BaseException] = field(default_factory=list)


@dataclass(frozen=True)
class Outcome:
    """How sending one nudge ended."""

    status: str
    attempts: int
    detail: str | None = None
    flood_waits: int = 0


async def nudge_screens(deps: BotData, claims: Sequence[store.Claim]) -> dict[int, Screen]:
    """Return what each claimed slot says, by slot id: a reminder with its targets, or a
    follow-up or next-morning question. One read for the whole batch."""
    catalogue = deps.catalogue
    screens: dict[int, Screen] = {}
    async with deps.db.read() as session:
        nudged = {
            (c.user_id, c.plan_band)
            for c in claims
            if c.kind not in (store.FOLLOWUP, store.MORNING)
        }
        plans = await load_prescriptions(session, list(nudged), catalogue)
        for claim in claims:
            if claim.kind in (store.FOLLOWUP, store.MORNING) and claim.session_id is not None:
                row = await get_session(session, claim.session_id)
                if row is not None:
                    screens[claim.slot_id] = _question(deps, claim, row)
                    continue
            text = reminder_texts.nudge(
                name=claim.first_name, goal=claim.goal, band=claim.band, catalogue=catalogue,
                last_routine=claim.last_routine, snoozed=claim.kind == store.SNOOZE,
                prescription=plans.get(claim.user_id),
            )  # fmt: skip
            screens[claim.slot_id] = Screen(text, nudge_keyboard(claim.slot_id))
    return screens


def _question(deps: BotData, claim: store.Claim, row: WorkoutSession) -> Screen:
    """Return the follow-up or next-morning question about a member's session."""
    found = deps.catalogue.routines.get(row.routine_key)
    name = found.name if found else row.routine_key
    day = local_date(row.started_at, claim.timezone)
    if claim.kind == store.MORNING:
        return morning.question(row.id, name, day)
    return first_question(row.id, checkin_texts.FOLLOWUP.format(routine=name, day=day))


async def send_nudge(deps: BotData, claim: store.Claim, screen: Screen) -> Outcome:
    """Send one nudge: 429 → wait and resend once; network/5xx → bounded retries; 403 → stop."""
    attempts = flood_waits = network_failures = unsure = 0
    while True:
        attempts += 1
        try:
            await deps.delivery.send_in_lane(claim.chat_id, screen, Lane.BROADCAST)
            return Outcome(store.SENT, attempts, flood_waits=flood_waits)
        except Forbidden as exc:
            return Outcome(BLOCKED, attempts, f"403: {exc.message}", flood_waits)
        except RetryAfter as exc:
            if flood_waits:
                return Outcome(store.FAILED, attempts, f"429 twice: {exc.message}", flood_waits)
            flood_waits += 1
            await deps.sleep(retry_seconds(exc))
        except BadRequest as exc:  # a NetworkError subclass in PTB, but retrying cannot help
            return Outcome(store.FAILED, attempts, f"400: {exc.message}", flood_waits)
        except NetworkError as exc:  # timeouts, connection errors and 5xx
            network_failures += 1
            unsure += maybe_delivered(exc)
            if unsure >= 2:  # both tries may have arrived: a third could be a second duplicate
                return Outcome(store.FAILED, attempts, f"unsure twice: {exc.message}", flood_waits)
            if network_failures >= NETWORK_ATTEMPTS:
                return Outcome(store.FAILED, attempts, f"network: {exc.message}", flood_waits)
            await deps.sleep(NETWORK_BACKOFF_SECONDS * network_failures)
        except TelegramError as exc:
            return Outcome(store.FAILED, attempts, f"telegram: {exc.message}", flood_waits)


async def _claim_batch(
    db: Database, now: datetime, grace: timedelta
) -> tuple[list[store.Claim], bool]:
    """Claim up to BATCH due recurring slots (one transaction) and the pending one-off slots
    due (snoozes, follow-ups, next-morning questions); return them and whether more wait."""
    async with db.write() as session:
        claims, due = await store.claim_scheduled(session, now, grace, BATCH)
    async with db.read() as session:
        pending = await store.due_pending_slots(session, now, BATCH)
    for slot_id in pending:  # spread over the day, unlike the crowd at a reminder time
        async with db.write() as session:
            claim = await store.claim_pending(session, slot_id, now, grace)
        if claim is not None:
            claims.append(claim)
    return claims, due == BATCH or len(pending) == BATCH


async def _send(
    deps: BotData, claim: store.Claim, screen: Screen, gate: asyncio.Semaphore
) -> Outcome:
    """Send one claimed nudge, a few at a time; once the bot is stopping, release it instead."""
    async with gate:
        if deps.stopping:
            return Outcome(RELEASED, 0)
        return await send_nudge(deps, claim, screen)


def _stored_status(outcome: str) -> str:
    """Return the slot status an outcome is stored as."""
    if outcome == BLOCKED:
        return store.FAILED
    return store.PENDING if outcome == RELEASED else outcome


async def _record(deps: BotData, sent: Sequence[tuple[store.Claim, Outcome]]) -> None:
    """Record how each nudge of a batch ended, in one transaction, and log the failures."""
    now = deps.clock()
    blocked: list[int] = []
    async with deps.db.write() as session:
        for claim, outcome in sent:
            if outcome.status == BLOCKED and await block_chat(session, claim.chat_id, now):
                blocked.append(claim.chat_id)
        await store.finish_many(
            session,
            [
                (claim.slot_id, _stored_status(o.status), o.attempts, o.detail)
                for claim, o in sent
            ],
            now,
        )  # fmt: skip
    for claim, outcome in sent:
        if outcome.status == store.FAILED:
            logger.warning(
                "Gave up on %s slot %s for user %s: %s",
                claim.kind, claim.slot_id, claim.user_id, outcome.detail,
            )  # fmt: skip
    for chat_id in blocked:
        logger.info("Chat %s blocked the bot; its messages and timers are stopped", chat_id)


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


@dataclass(frozen=True)
class _Batch:
    """Claimed slots and what each nudge says, by slot id; whether more slots wait."""

    claims: list[store.Claim]
    screens: dict[int, Screen]
    more: bool


def _sending(claims: Sequence[store.Claim]) -> list[store.Claim]:
    """Return the claims whose nudge goes out (the others were skipped when claimed)."""
    return [c for c in claims if c.action is Action.SEND]


async def _next_batch(deps: BotData, now: datetime, grace: timedelta) -> _Batch:
    """Claim the next batch (see _claim_batch) and build its nudges; should building them
    fail, the claims are handed back."""
    claims, more = await _claim_batch(deps.db, now, grace)
    try:
        to_send = _sending(claims)
        return _Batch(claims, await nudge_screens(deps, to_send) if to_send else {}, more)
    except BaseException:
        await _release(deps, claims)
        raise


async def dispatch_due(deps: BotData, now: datetime | None = None) -> DispatchStats:
    """Claim every slot due by `now` and send the nudges; return what happened.

    While a batch is sent, the next one is claimed and the one before is recorded: on
    PostgreSQL the database works on its own core meanwhile. Should the run fail or be
    cancelled, the batch claimed ahead is handed back unsent and every record in flight ends.
    """
    now = now or deps.clock()
    grace = timedelta(minutes=deps.settings.reminder_grace_minutes)
    gate = asyncio.Semaphore(CONCURRENT_SENDS)
    stats = DispatchStats()
    claiming: asyncio.Task[_Batch] | None = None
    recording: asyncio.Task[None] | None = None
    try:
        for number in range(MAX_BATCHES):
            if claiming is None:
                if deps.stopping:  # the next start (or another instance) carries on
                    break
                claiming = asyncio.create_task(_next_batch(deps, now, grace))
            try:  # shielded: a cancelled run still hands the claimed batch back
                batch = await asyncio.shield(claiming)
            except Exception:
                claiming = None  # the claim failed: _next_batch gave back what it had
                raise
            claiming = None
            if batch.more and number + 1 < MAX_BATCHES and not deps.stopping:
                claiming = asyncio.create_task(_next_batch(deps, now, grace))
            sent = await _send_batch(deps, batch, now, gate, stats)
            previous, recording = recording, _record_soon(deps, sent)
            if previous is not None:
                await asyncio.shield(previous)
            if not batch.more:
                break
        if recording is not None:
            await asyncio.shield(recording)
    except BaseException as failure:
        try:
            if claiming is not None:
                await _hand_back(deps, claiming)
        finally:
            await _records_end(recording, failure)
        raise
    return stats


def _record_soon(
    deps: BotData, sent: list[tuple[store.Claim, Outcome]]
) -> asyncio.Task[None] | None:
    """Start recording a batch's outcomes (see _record); None if nothing was sent."""
    return asyncio.create_task(_record(deps, sent)) if sent else None


async def _records_end(recording: asyncio.Task[None] | None, failure: BaseException) -> None:
    """Let a record in flight end after the run failed; log its own failure, if another."""
    if recording is None:
        return
    (result,) = await asyncio.gather(recording, return_exceptions=True)
    if isinstance(result, Exception) and result is not failure:
        logger.warning("Could not record a batch of reminders' outcomes: %r", result)


async def _send_batch(
    deps: BotData, batch: _Batch, now: datetime, gate: asyncio.Semaphore, stats: DispatchStats
) -> list[tuple[store.Claim, Outcome]]:
    """Send a claimed batch's nudges; count them in `stats` and return how each send ended."""
    stats.claimed += len(batch.claims)
    for claim in batch.claims:
        if claim.action is not Action.SEND:
            stats.skipped[claim.action.value] += 1
            _log_skip(claim, now)
    to_send = _sending(batch.claims)
    results = await asyncio.gather(
        *(_send(deps, c, batch.screens[c.slot_id], gate) for c in to_send),
        return_exceptions=True,
    )
    sent: list[tuple[store.Claim, Outcome]] = []
    for claim, outcome in zip(to_send, results, strict=True):
        if isinstance(outcome, BaseException):
            stats.errors.append(outcome)  # reported by the job, rate-limited
            stats.failed += 1
            continue
        sent.append((claim, outcome))
        stats.sent += outcome.status == store.SENT
        stats.failed += outcome.status == store.FAILED
        stats.blocked += outcome.status == BLOCKED
        stats.resent_after_429 += outcome.flood_waits
    return sent


async def _hand_back(deps: BotData, claiming: asyncio.Task[_Batch]) -> None:
    """Make a batch claimed ahead pending again, unsent, after the run failed."""
    try:
        batch = await claiming
    except Exception:  # its claim failed: _next_batch gave back what it had claimed
        return
    await _release(deps, batch.claims)


async def _release(deps: BotData, claims: Sequence[store.Claim]) -> None:
    """Record claimed nudges as not sent (pending again, for the next run)."""
    unsent = [(c, Outcome(RELEASED, 0)) for c in _sending(claims)]
    try:
        if unsent:
            await _record(deps, unsent)
    except Exception as exc:  # the database is away: like a kill right after a claim
        logger.warning("Could not hand back %d claimed reminder(s): %r", len(unsent), exc)


async def reminder_job(context: BandCoachContext) -> None:
    """JobQueue callback: dispatch whatever is due now."""
    stats = await dispatch_due(context.bot_data, context.clock())
    if stats.claimed:
        logger.info(
            "Reminders: %s claimed, %s sent, %s failed, %s blocked, skipped %s",
            stats.claimed,
            stats.sent,
            stats.failed,
            stats.blocked,
            dict(stats.skipped),
        )
    if stats.errors:
        raise stats.errors[0]
