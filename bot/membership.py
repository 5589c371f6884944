"""A member blocked or unblocked the bot (my_chat_member), and messages outside private chats."""

from __future__ import annotations

import logging

from bot.coaching import texts
from bot.coaching.screen import Reply
from bot.context import BotData
from storage import reminders as reminder_store
from storage import repositories as repo
from storage import sessions as session_store
from storage.blocking import block_chat
from storage.models import User

logger = logging.getLogger(__name__)

LEFT = frozenset({"kicked", "left"})


async def onboarded(deps: BotData, user_id: int) -> User | None:
    """Return the member if they finished onboarding."""
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
    return user if user is not None and user.onboarding_step is None else None


async def returning(deps: BotData, user_id: int) -> str:
    """Say where a member stands when they come back: new, setup, training or member."""
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
        if user is None:
            return "new"
        if user.onboarding_step is not None:
            return "setup"
        active = await session_store.active_session(session, user_id)
    return "training" if active is not None else "member"


def need_start(tapped: bool) -> Reply:
    """Ask someone who has not onboarded to send /start."""
    return Reply(answer=texts.NEED_START, alert=True) if tapped else Reply.text(texts.NEED_START)


async def changed(deps: BotData, user_id: int, chat_id: int, status: str) -> None:
    """Mark the member inactive when they block the bot, and active again when they return."""
    now = deps.clock()
    async with deps.db.write() as session:
        if status in LEFT:
            if await block_chat(session, chat_id, now):
                logger.info("Chat %s blocked the bot; its messages and timers are stopped",
                            chat_id)  # fmt: skip
            return
        user = await repo.get_user(session, user_id)
        if user is None or user.is_active:
            return
        user.is_active, user.blocked_at = True, None
        await session.flush()
        await reminder_store.ensure_scheduled(session, user_id, now)
    logger.info("Chat %s unblocked the bot; its reminders are back", chat_id)


def private_only(bot_username: str) -> Reply:
    """Point someone who wrote to the bot in a group to a private chat with it."""
    return Reply.text(texts.PRIVATE_ONLY.format(link=f"https://t.me/{bot_username}"))
