"""/settings: one menu for goal, bands, reminders, the member's data and a coach's alerts.

Each choice runs the same code as the flow it comes from: goal and bands save through
onboarding's checks (bot.onboarding.change_one), reminders open /reminders' own menu, and the
data buttons are /export and /deletedata.
"""

from __future__ import annotations

from bot import coach, member_data, onboarding, reminder_settings
from bot.coaching import coach as c
from bot.coaching import onboarding_keyboards as kb
from bot.coaching import texts
from bot.coaching.screen import Reply, Screen
from bot.context import BotData
from storage import repositories as repo


async def command(deps: BotData, user_id: int) -> Reply:
    """Return /settings: the member's settings and what each button changes."""
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
        if user is None or user.onboarded_at is None:
            return Reply.text(texts.NEED_START)
        return Reply(send=(await onboarding.menu_screen(session, deps, user),))


async def on_button(deps: BotData, user_id: int, data: str) -> Reply:
    """Handle a tap on the /settings menu."""
    tap = kb.MenuTap.parse(data)
    if tap is None:
        return Reply(answer=texts.UNKNOWN_BUTTON, alert=True)
    if tap.action == kb.KEEP:
        return Reply(edit=Screen(texts.KEPT))
    if tap.action == kb.CHANGE:
        return await onboarding.restart(deps, user_id)
    if tap.action == kb.EXPORT:
        return await member_data.export(deps, user_id)
    if tap.action == kb.DELETE:
        return await member_data.ask_delete(deps, user_id)
    note = None
    if tap.action in (kb.ALERTS_ON, kb.ALERTS_OFF):
        on = tap.action == kb.ALERTS_ON
        if not await coach.set_alerts(deps, user_id, on):
            return Reply(answer=c.NOT_AVAILABLE, alert=True)
        note = c.ALERTS_NOW_ON if on else c.ALERTS_NOW_OFF
    return await _show(deps, user_id, tap.action, note)


async def _show(deps: BotData, user_id: int, action: str, note: str | None) -> Reply:
    """Edit the menu into one setting's question, the reminders menu, or the menu itself."""
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
        if user is None or user.onboarded_at is None:
            return Reply(answer=texts.NEED_START, alert=True)
        if action == kb.GOAL:
            screen = await onboarding.question(session, deps, user, "goal", edit=True)
        elif action == kb.BANDS_OWNED:
            screen = await onboarding.question(session, deps, user, "band", edit=True)
        elif action == kb.REMINDERS:
            screen = await reminder_settings.menu(session, deps, user_id)
        else:
            screen = await onboarding.menu_screen(session, deps, user)
    return Reply(answer=note, alert=note is not None, edit=screen)
