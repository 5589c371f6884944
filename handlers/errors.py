"""The error handler: an update that failed before its change committed gets an apology.

Repeated failures are logged and reported to the admins once per kind per 10 minutes (see
bot.alerts); no traceback, SQL or token ever reaches a member or a notice.
"""

from __future__ import annotations

from telegram import Update

from bot import update_log
from bot.alerts import failure_kind
from bot.coaching import texts
from bot.coaching.screen import Reply
from bot.context import BandCoachContext


async def on_error(update: object, context: BandCoachContext) -> None:
    """Report a failed update (rate-limited) and tell the member briefly."""
    error = context.error
    assert error is not None
    update_log.failed()
    update_id = update.update_id if isinstance(update, Update) else None
    await context.bot_data.alerts.failed(error, where="updates", detail=f"update {update_id}")
    if not isinstance(update, Update):
        return
    text = texts.ERROR
    if failure_kind(error) == "database":
        locked = "database is locked" in str(error)  # SQLite: another writer held it too long
        text = texts.DATABASE_LOCKED if locked else texts.DATABASE_BUSY
    if update.callback_query is not None:
        await context.delivery.reply(update, Reply(answer=text[:190], alert=True))
    elif update.effective_chat is not None:
        await context.delivery.reply(update, Reply.text(text))
