"""The coach's view: /stats for admins, and pain alerts that reach them exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching import coach as c
from bot.coaching.adherence import local_day, week_of
from bot.coaching.progression import CheckIn
from bot.coaching.screen import LiveRef, Reply, Screen
from bot.context import BotData
from bot.delivery.lanes import Lane
from storage import live_messages as live
from storage import reports as store
from storage import repositories as repo
from storage.models import User


def is_admin(deps: BotData, user_id: int) -> bool:
    """Return True for a coach listed in ADMIN_USER_IDS."""
    return user_id in deps.settings.admin_user_ids


async def stats(deps: BotData, user_id: int) -> Reply:
    """Return /stats for an admin; anyone else learns only that it is not available."""
    if not is_admin(deps, user_id):
        return Reply.text(c.NOT_AVAILABLE)
    now = deps.clock()
    async with deps.db.read() as session:
        admin = await repo.get_user(session, user_id)
        zone = admin.timezone if admin is not None else "UTC"
        monday = week_of(local_day(now, zone))
        week_start = datetime.combine(monday, time(), ZoneInfo(zone))
        members, active, week, on_track, blocked, pain = await store.stats(
            session, now, week_start, c.HIGH_PAIN
        )
    high = [(name, local_day(at, tz), level) for name, at, tz, level in pain]
    figures = c.Stats(members, active, week, on_track, blocked, high)
    return Reply.text(c.stats_text(figures))


async def alert(
    session: AsyncSession,
    admin_ids: Sequence[int],
    kind: str,
    session_id: int,
    text: str,
    now: datetime,
) -> tuple[LiveRef, ...]:
    """Write one alert about a session's check-in for every coach who wants them, once each.

    Written in the transaction that saved the answer; delivery sends it as a new message. The
    key (kind and session) makes a second write of the same alert a no-op, in any process.
    """
    refs: list[LiveRef] = []
    for coach in await repo.alert_coaches(session, admin_ids):
        ref = await live.put(
            session, user_id=coach.id, chat_id=coach.chat_id, key=c.alert_key(kind, session_id),
            screen=Screen(text).to_json(), lane=Lane.TIMER, now=now, once=True,
        )  # fmt: skip
        if ref is not None:
            refs.append(ref)
    return tuple(refs)


async def pain_alert(
    session: AsyncSession,
    admin_ids: Sequence[int],
    member: User,
    session_id: int,
    answer: CheckIn,
    now: datetime,
) -> tuple[LiveRef, ...]:
    """Alert the coaches about a check-in with pain of 6 or more (nothing below)."""
    if answer.pain < c.HIGH_PAIN:
        return ()
    text = c.pain_alert(member.first_name, answer.pain, answer.areas)
    return await alert(session, admin_ids, c.PAIN_ALERT, session_id, text, now)


async def set_alerts(deps: BotData, user_id: int, on: bool) -> bool:
    """Turn an admin's pain alerts on or off; False for anyone else."""
    if not is_admin(deps, user_id):
        return False
    async with deps.db.write() as session:
        return await repo.set_pain_alerts(session, user_id, on)
