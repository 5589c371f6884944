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
    """Return page `number` of /history (0: the newest) as a new message, or edited into the
    tapped one when a page button drew it (`drawn_total`: the sessions there were then).

    A page button drawn before the member's sessions changed, or past the end, gets page 0.
    """
    tapped = drawn_total is not None
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
        if user is None or user.onboarding_step is not None:
            return Reply(answer=NEED_START, alert=True) if tapped else Reply.text(NEED_START)
        total = await store.count_sessions(session, user_id)
        stale = tapped and (drawn_total != total or number * PAGE_SIZE >= max(total, 1))
        if stale:
            number = 0
        lines = await store.history_page(
            session, user_id, user.timezone, offset=number * PAGE_SIZE, limit=PAGE_SIZE
        )
    if not lines:
        screen = Screen(rt.NO_SESSIONS)
    else:
        text = rt.history_text(deps.catalogue, lines, number * PAGE_SIZE, total)
        screen = Screen(text, history_keyboard(number, -(-total // PAGE_SIZE), total))
    if not tapped:
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
