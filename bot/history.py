"""/history: a member's sessions five to a page, and the buttons under /progress and /history."""

from __future__ import annotations

from bot import progress_report
from bot.coaching import report_texts as rt
from bot.coaching.checkin_texts import NEED_START
from bot.coaching.report_keyboards import PAGE, SUMMARY, ReportTap, history_keyboard
from bot.coaching.screen import Reply, Screen
from bot.coaching.texts import UNKNOWN_BUTTON
from bot.context import BotData
from storage import reports as store
from storage import repositories as repo

PAGE_SIZE = 5


async def page(
    deps: BotData, user_id: int, number: int = 0, drawn_total: int | None = None
) -> Reply:
    """Return page `number` of /history (0: the newest); a stale page button gets page 0."""
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
        if user is None or user.onboarding_step is not None:
            return (
                Reply(answer=NEED_START, alert=True)
                if drawn_total is not None
                else Reply.text(NEED_START)
            )
        offset = number * PAGE_SIZE
        stale = drawn_total is not None and drawn_total != await store.count_sessions(
            session, user_id
        )
        if stale:
            offset = number = 0
        lines, total = await store.history_page(
            session, user_id, user.timezone, offset=offset, limit=PAGE_SIZE
        )
    if not lines and number:  # past the end (only a forged button gets here)
        return await page(deps, user_id)
    if not lines:
        screen = Screen(rt.NO_SESSIONS)
    else:
        pages = -(-total // PAGE_SIZE)
        text = rt.history_text(deps.catalogue, lines, offset, total)
        screen = Screen(text, history_keyboard(number, pages, total))
    if drawn_total is None:
        return Reply(send=(screen,))
    return Reply(answer=rt.STALE_PAGE if stale else None, edit=screen)


async def on_button(deps: BotData, user_id: int, data: str) -> Reply:
    """Handle the summary button under /progress and the older/newer buttons of /history."""
    tap = ReportTap.parse(data)
    if tap is None:
        return Reply(answer=UNKNOWN_BUTTON, alert=True)
    if tap.action == SUMMARY:
        return await progress_report.summary(deps, user_id)
    assert tap.action == PAGE
    return await page(deps, user_id, tap.page, tap.total)
