"""A member's data in their hands: /export as two CSV files, and /deletedata."""

from __future__ import annotations

from bot.coaching import data_texts as dt
from bot.coaching import report_texts as rt
from bot.coaching.checkin_texts import NEED_START
from bot.coaching.report_texts import plural
from bot.coaching.screen import DOCUMENT, Attachment, Reply, Screen
from bot.coaching.texts import UNKNOWN_BUTTON
from bot.context import BotData
from storage import reports as store
from storage import repositories as repo


async def export(deps: BotData, user_id: int) -> Reply:
    """Return /export: every logged set and every check-in as CSV documents."""
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
        if user is None:
            return Reply.text(NEED_START)
        sets = await store.set_rows(session, user_id, user.timezone)
        checkins = await store.checkin_rows(session, user_id, user.timezone)
    if not sets and not checkins:
        return Reply.text(rt.NO_EXPORT)
    text = rt.EXPORTED.format(sets=len(sets), checkins=len(checkins))
    files = (
        Attachment(DOCUMENT, "band-coach-sets.csv", rt.sets_csv(deps.catalogue, sets)),
        Attachment(DOCUMENT, "band-coach-checkins.csv", rt.checkins_csv(checkins)),
    )
    return Reply(send=(Screen(text),), files=files)


async def ask_delete(deps: BotData, user_id: int) -> Reply:
    """Return /deletedata: what will be deleted, and Delete or Keep."""
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
        if user is None:
            return Reply.text(dt.NOTHING)
        sessions, sets, checkins = await store.member_counts(session, user_id)
    text = dt.CONFIRM.format(
        sessions=plural(sessions, "session"), sets=plural(sets, "logged set"),
        checkins=plural(checkins, "check-in"),
    )  # fmt: skip
    return Reply.text(text, *dt.confirm_keyboard(user.signup_key))


async def on_button(deps: BotData, user_id: int, data: str) -> Reply:
    """Handle Delete or Keep; a button older than the member's data changes nothing."""
    tap = dt.DataTap.parse(data)
    if tap is None:
        return Reply(answer=UNKNOWN_BUTTON, alert=True)
    async with deps.db.write() as session:
        user = await repo.get_user(session, user_id)
        if user is None or user.signup_key != tap.key:
            return Reply(answer=dt.OUTDATED, alert=True)
        if tap.answer == dt.NO:
            return Reply(edit=Screen(dt.KEPT))
        await store.delete_member(session, user_id)
    return Reply(edit=Screen(dt.DELETED))
