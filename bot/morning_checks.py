"""The next-morning question's buttons: better, as usual, or worse (which undoes and deloads)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import coach
from bot.coaching import coach as c
from bot.coaching import morning as m
from bot.coaching.checkin import parse_areas
from bot.coaching.morning import MorningTap
from bot.coaching.profile import owned_bands
from bot.coaching.progression import changed_routines, prescription_from_json
from bot.coaching.screen import Chat, LiveRef, Reply, Screen
from bot.context import BotData
from bot.delivery import Lane
from storage import live_messages as live
from storage import progress as store
from storage import reminders as reminder_store
from storage import sessions as session_store
from storage.models import PainCheckin, User, WorkoutSession

SAVED = "Saved ✓"


async def on_tap(deps: BotData, chat: Chat, data: str) -> Reply:
    """Save the member's answer once; "worse" undoes the session's increases and deloads."""
    tap = MorningTap.parse(data)
    if tap is None:
        return Reply(answer=m.BAD_BUTTON, alert=True)
    now = deps.clock()
    async with deps.db.write() as session:
        user = await store.lock_user(session, chat.user_id)
        row = await session_store.get_session(session, tap.session_id)
        checkin = await store.get_checkin(session, row.id) if row is not None else None
        refusal = await _refusal(session, user, row, checkin, now)
        if refusal is not None:
            return Reply(answer=refusal)
        assert user is not None and row is not None and checkin is not None
        if not await store.save_morning(session, user.id, row.id, tap.answer, now):
            return Reply(answer=m.ALREADY)
        text = m.THANKS.get(tap.answer) or await _undo(session, deps, user, row, checkin, now)
        shown = await live.put(
            session, user_id=user.id, chat_id=chat.chat_id, key=f"mo{row.id}",
            screen=Screen(text).to_json(), lane=Lane.REPLY, now=now, message_id=chat.message_id,
            new_message=chat.message_id is None,
        )  # fmt: skip
        alerts = await _alert_worse(session, deps, user, row, checkin, tap.answer, now)
    return Reply(answer=SAVED, live=(*((shown,) if shown is not None else ()), *alerts))


async def _alert_worse(
    session: AsyncSession,
    deps: BotData,
    user: User,
    row: WorkoutSession,
    checkin: PainCheckin,
    answer: str,
    now: datetime,
) -> tuple[LiveRef, ...]:
    """Tell the coaches who want pain alerts that a member's back feels worse (once)."""
    if answer != m.WORSE:
        return ()
    text = c.worse_alert(user.first_name, checkin.pain, parse_areas(checkin.areas))
    return await coach.alert(
        session, deps.settings.admin_user_ids, c.WORSE_ALERT, row.id, text, now
    )


async def _refusal(
    session: AsyncSession,
    user: User | None,
    row: WorkoutSession | None,
    checkin: PainCheckin | None,
    now: datetime,
) -> str | None:
    """Return why a tap cannot be saved (unknown, someone else's, too late), or None."""
    if user is None or row is None:
        return m.BAD_BUTTON
    if row.user_id != user.id:
        return m.NOT_YOURS
    due = await reminder_store.morning_due_at(session, row.id)
    if due is None or checkin is None:
        return m.BAD_BUTTON
    return None if m.answerable(due, now) else m.TOO_LATE


async def _undo(
    session: AsyncSession,
    deps: BotData,
    user: User,
    row: WorkoutSession,
    checkin: PainCheckin,
    now: datetime,
) -> str:
    """Undo what the session's check-in raised, deload one step, and say what changed."""
    catalogue = deps.catalogue
    current = await store.load_prescription(session, user.id, catalogue, user.band)
    base = checkin.base_prescription
    before = prescription_from_json(catalogue, base) if base is not None else current
    owned = owned_bands(user.bands_owned)
    lighter, lines = m.undo_and_deload(catalogue, current, before, row.routine_key, owned)
    changed = changed_routines(current, lighter)
    await store.save_routines(session, user.id, catalogue, lighter, changed, now)
    return m.worse_text(lines)
