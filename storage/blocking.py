"""A member blocked the bot: mark them inactive once and stop everything aimed at their chat."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching.states import Phase
from storage import live_messages
from storage.models import ReminderSettings, User, WorkoutSession
from storage.sessions import ACTIVE


async def block_chat(session: AsyncSession, chat_id: int, now: datetime) -> bool:
    """Stop reminders, countdowns and pending messages for a chat; True if newly blocked."""
    user_ids = list(
        (await session.execute(select(User.id).where(User.chat_id == chat_id))).scalars()
    )
    newly = await session.execute(
        update(User)
        .where(User.chat_id == chat_id, User.is_active.is_(True))
        .values(is_active=False, blocked_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if user_ids:
        await session.execute(
            update(ReminderSettings)
            .where(ReminderSettings.user_id.in_(user_ids))
            .values(next_due_at=None)
            .execution_options(synchronize_session=False)
        )
        await session.execute(
            update(WorkoutSession)
            .where(
                WorkoutSession.user_id.in_(user_ids),
                WorkoutSession.status == ACTIVE,
                WorkoutSession.timer_due_at.is_not(None),
            )
            .values(timer_due_at=None, phase=Phase.STEP)
            .execution_options(synchronize_session=False)
        )
    await live_messages.drop_chat(session, chat_id)
    return bool(newly.rowcount)  # type: ignore[attr-defined]
