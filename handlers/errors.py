"""The error handler: log with the update id, tell the user briefly, never leak a traceback."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.coaching import texts
from bot.context import BandCoachContext
from bot.logs import redact
from storage import repositories as repo

logger = logging.getLogger(__name__)


async def _notify_admins(
    context: BandCoachContext, update_id: int | None, error: BaseException | None
) -> None:
    """Tell the coaches in ADMIN_USER_IDS that an update failed: type and message only."""
    summary = redact(f"{type(error).__name__}: {error}")[:300]
    for admin_id in context.settings.admin_user_ids:
        try:
            await context.bot.send_message(admin_id, f"⚠️ Update {update_id} failed: {summary}")
        except TelegramError as exc:
            logger.warning("Could not notify admin %s: %s", admin_id, exc)


async def on_error(update: object, context: BandCoachContext) -> None:
    """Log a failed update and send the user a short apology."""
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    if isinstance(error, Forbidden) and isinstance(update, Update) and update.effective_user:
        logger.info("User %s blocked the bot (update %s)", update.effective_user.id, update_id)
        try:
            async with context.db.write() as session:
                await repo.mark_blocked(session, update.effective_user.id)
        except Exception:
            logger.exception("Could not mark user %s as blocked", update.effective_user.id)
        return
    logger.error("Update %s failed", update_id, exc_info=error)
    await _notify_admins(context, update_id, error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.ERROR[:190], show_alert=True)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, texts.ERROR)
    except TelegramError as exc:
        logger.warning("Could not tell the user about the failure of update %s: %s", update_id, exc)
