"""Queries over the models; each function takes an open AsyncSession."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, time
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import run, upsert_insert
from storage.models import SIGNUP_KEY_BITS, ReminderSettings, User
from storage.types import utcnow


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    """Return the user with this Telegram id, if known."""
    return await session.get(User, user_id)


async def register_user(
    session: AsyncSession,
    *,
    user_id: int,
    chat_id: int,
    first_name: str,
    timezone: str,
    first_step: str,
) -> tuple[User, bool]:
    """Create the user, or refresh and reactivate an existing one; return (user, created).

    The insert skips a row another transaction just created (a /start sent twice at once):
    on PostgreSQL `SELECT … FOR UPDATE` locks nothing while the row does not exist yet.
    """
    now = utcnow()
    inserted = await session.execute(
        upsert_insert(session, User)
        .values(
            id=user_id, chat_id=chat_id, first_name=first_name[:128], timezone=timezone,
            onboarding_step=first_step, is_active=True, created_at=now, updated_at=now,
            signup_key=secrets.randbits(SIGNUP_KEY_BITS),
        )
        .on_conflict_do_nothing()
        .returning(User.id)
    )  # fmt: skip
    created = inserted.scalar_one_or_none() is not None
    user = await session.get(User, user_id, with_for_update=True, populate_existing=True)
    assert user is not None
    if created:
        return user, True
    user.chat_id = chat_id
    user.first_name = first_name[:128]
    user.is_active = True
    user.blocked_at = None
    return user, False


async def advance_onboarding(
    session: AsyncSession, user_id: int, expected: str, nxt: str | None, **values: Any
) -> bool:
    """Move the user from onboarding step `expected` to `nxt` with new values, atomically.

    Returns False when the user is no longer at `expected` (a double tap or a stale button).
    """
    changes: dict[str, Any] = {"onboarding_step": nxt, "updated_at": utcnow(), **values}
    if nxt is None:
        changes.setdefault("onboarded_at", utcnow())
    result = await session.execute(
        update(User)
        .where(User.id == user_id, User.onboarding_step == expected)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


_SET_AWAITING = (
    update(User)
    .where(User.id == bindparam("b_id"))
    .values(awaiting=bindparam("b_awaiting"))  # updated_at: the column's onupdate
)


async def set_awaiting(session: AsyncSession, user_id: int, awaiting: str | None) -> None:
    """Store what typed input the bot waits for from this user (None: nothing)."""
    await run(session, _SET_AWAITING, {"b_id": user_id, "b_awaiting": awaiting})


async def set_squats(session: AsyncSession, user_id: int, ok: bool, now: datetime) -> None:
    """Store the answer to "are bodyweight squats pain-free?" and when it was given."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(squats_ok=ok, squats_asked_at=now)
        .execution_options(synchronize_session=False)
    )


async def update_user(session: AsyncSession, user_id: int, **values: Any) -> bool:
    """Change some of a member's columns (a setting); False if there is no such user."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_pain_alerts(session: AsyncSession, user_id: int, on: bool) -> bool:
    """Turn a coach's pain alerts on or off; False if there is no such user."""
    result = await session.execute(update(User).where(User.id == user_id).values(pain_alerts=on))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def alert_coaches(session: AsyncSession, admin_ids: Sequence[int]) -> list[User]:
    """Return the admins among `admin_ids` who turned pain alerts on and still reach the bot."""
    if not admin_ids:
        return []
    result = await session.scalars(
        select(User).where(User.id.in_(admin_ids), User.pain_alerts, User.is_active)
    )
    return list(result.all())


async def restart_onboarding(session: AsyncSession, user_id: int, first_step: str) -> None:
    """Put an onboarded user back at the first onboarding step, keeping their data."""
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(onboarding_step=first_step, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def get_reminder_settings(session: AsyncSession, user_id: int) -> ReminderSettings | None:
    """Return the user's reminder settings, if any."""
    return await session.get(ReminderSettings, user_id)


async def save_reminder_schedule(
    session: AsyncSession, user_id: int, *, days_mask: int, at: time, enabled: bool
) -> ReminderSettings:
    """Create or update the user's reminder days, time and on/off switch."""
    settings = await session.get(ReminderSettings, user_id, with_for_update=True)
    if settings is None:
        settings = ReminderSettings(user_id=user_id)
        session.add(settings)
    settings.days_mask = days_mask
    settings.local_time = at
    settings.enabled = enabled
    settings.paused_until = None
    await session.flush()
    return settings


async def mark_blocked(session: AsyncSession, user_id: int) -> None:
    """Flag a user who blocked the bot as inactive, keeping all their data."""
    await session.execute(
        update(User)
        .where(User.id == user_id, User.is_active.is_(True))
        .values(is_active=False, blocked_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def count_users(session: AsyncSession) -> int:
    """Return how many users the bot knows."""
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())
