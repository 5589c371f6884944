"""The check-in as members see it: /checkin, /plan, the buttons and the note, as Replies.

The check-in is one message edited in place, below whatever it was attached to (the session
summary, a follow-up, or /checkin's intro). The answers so far ride in the buttons; each tap is
checked against the database, and pain and areas are saved as soon as they are tapped.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import checkins
from bot import progress as plans
from bot.coaching import checkin_keyboards as kb
from bot.coaching import checkin_texts as ct
from bot.coaching import texts
from bot.coaching.checkin import AREAS_DONE, NO_NOTE, PAIN, SIDE, Tap, parse_note, parse_tap
from bot.coaching.reminder_texts import local_date
from bot.coaching.screen import Chat, LiveRef, Reply, Screen
from bot.coaching.states import Awaited
from bot.context import BotData
from bot.delivery import Lane
from bot.membership import onboarded
from storage import live_messages as live

REFUSALS: dict[str, str] = {
    checkins.UNKNOWN: ct.BAD_BUTTON,
    checkins.NOT_YOURS: ct.NOT_YOURS,
    checkins.RUNNING: ct.FINISH_FIRST,
    checkins.CLOSED: ct.TOO_LATE,
    checkins.ALREADY: ct.ALREADY_SAVED,
}


async def command(deps: BotData, user_id: int) -> Reply:
    """Start a check-in for the last session without one, or a re-answer within 12 hours."""
    user = await onboarded(deps, user_id)
    if user is None:
        return Reply.text(ct.NEED_START)
    target = await checkins.for_command(deps.db, user.id, deps.clock())
    row = target.session
    if row is None or not target.answerable:
        return Reply.text(
            ct.FINISH_FIRST if target.status == checkins.RUNNING else ct.NOTHING_TO_CHECK
        )
    name = deps.catalogue.routines.get(row.routine_key)
    routine = name.name if name else row.routine_key
    if target.checkin is not None:
        head = ct.REANSWER.format(routine=routine, pain=target.checkin.pain)
    else:
        head = ct.CHECKIN_FOR.format(
            routine=routine, when=local_date(row.started_at, user.timezone)
        )
    return Reply(send=(kb.first_question(row.id, head),))


async def plan(deps: BotData, user_id: int) -> Reply:
    """Show the current prescription for every routine."""
    if await onboarded(deps, user_id) is None:
        return Reply.text(ct.NEED_START)
    async with deps.db.read() as session:
        current = await plans.prescription(session, deps.catalogue, user_id)
    return Reply.text(ct.plan_text(deps.catalogue, current))


async def _show(deps: BotData, chat: Chat, session_id: int, screen: Screen) -> Reply:
    """Keep the tapped check-in message up to date (a tap that saves nothing)."""
    async with deps.db.write() as session:
        return Reply(live=await _keep(session, deps, chat, session_id, screen))


async def _keep(
    session: AsyncSession,
    deps: BotData,
    chat: Chat,
    session_id: int,
    screen: Screen,
    changes: Screen | None = None,
) -> tuple[LiveRef, ...]:
    """Write the check-in's live messages: the tapped one, and a new message of changes."""
    now = deps.clock()
    ids = [
        await live.put(
            session, user_id=chat.user_id, chat_id=chat.chat_id, key=f"ci{session_id}",
            screen=screen.to_json(), lane=Lane.REPLY, now=now, message_id=chat.message_id,
            new_message=chat.message_id is None,
        )
    ]  # fmt: skip
    if changes is not None:  # each answer gets its own message of changes, below it
        ids.append(
            await live.put(
                session, user_id=chat.user_id, chat_id=chat.chat_id, key=f"cr{session_id}",
                screen=changes.to_json(), lane=Lane.REPLY, now=now, new_message=True,
            )
        )  # fmt: skip
    return tuple(i for i in ids if i is not None)


def _changes(saved: checkins.Saved, now: datetime) -> Screen:
    """Return the message listing what the answer changed and when to train next."""
    result = saved.progression
    assert result is not None
    next_line = ct.next_session(
        deload=result.deload, reminder=saved.reminder, zone=saved.timezone, now=now
    )
    text = ct.changes(
        result.reasons, safety=result.safety, again=saved.again, next_line=next_line,
        morning=ct.morning_line(saved.morning, saved.timezone),
    )  # fmt: skip
    return Screen(text)


async def _save(deps: BotData, chat: Chat, tap: Tap, head: str) -> Reply:
    """Save the answers after the last tap, then show what changed and when to train next."""
    now = deps.clock()
    confirm = f"{ct.saved(tap.pain, tap.areas, tap.side)}\n\n{ct.NOTE_PROMPT}"
    edit = Screen(ct.with_head(head, confirm), kb.note_keyboard(tap.session_id))

    async def show(session: AsyncSession, saved: checkins.Saved) -> tuple[LiveRef, ...]:
        return await _keep(session, deps, chat, tap.session_id, edit, _changes(saved, now))

    saved = await checkins.save_answer(
        deps.db, deps.catalogue, chat.user_id, tap.session_id, tap.checkin(), now, show=show,
        coaches=deps.settings.admin_user_ids,
    )  # fmt: skip
    if saved.progression is None:
        return Reply(answer=REFUSALS.get(saved.status, ct.BAD_BUTTON))
    return Reply(live=saved.shown or ())


async def on_tap(deps: BotData, chat: Chat, data: str, shown: str) -> Reply:
    """Handle a check-in button (pain, an area, that's all, the side, no note) on `shown`."""
    tap = parse_tap(data)
    if tap is None:
        return Reply(answer=ct.BAD_BUTTON, alert=True)
    head, user_id = ct.head_of(shown), chat.user_id
    if tap.kind == NO_NOTE:
        done = Screen(shown.replace(ct.NOTE_PROMPT, ct.NO_NOTE_DONE) or ct.NO_NOTE_DONE)
        skipped = await checkins.skip_note(
            deps.db, user_id, tap.session_id,
            show=lambda session: _keep(session, deps, chat, tap.session_id, done),
        )  # fmt: skip
        if skipped is None:
            return Reply(answer=ct.BAD_BUTTON, alert=True)
        return Reply(answer=ct.NO_NOTE_DONE, live=skipped)
    if tap.kind == SIDE:
        return await _save(deps, chat, tap, head)
    now = deps.clock()
    screen = kb.next_question(tap, head)
    written: tuple[LiveRef, ...] | None = None
    if tap.kind in (PAIN, AREAS_DONE):
        # Store the answers so far at once: a pain of 8 must count even if nothing follows.
        saved = await checkins.save_answer(
            deps.db, deps.catalogue, user_id, tap.session_id, tap.checkin(), now, partial=True,
            show=lambda session, _: _keep(session, deps, chat, tap.session_id, screen),
            coaches=deps.settings.admin_user_ids,
        )  # fmt: skip
        status = checkins.OPEN if saved.status == checkins.ALREADY else saved.status
        written = saved.shown
    else:
        status = (await checkins.check_tap(deps.db, user_id, tap.session_id, now)).status
    if status not in (checkins.OPEN, checkins.REANSWER):
        return Reply(answer=REFUSALS.get(status, ct.BAD_BUTTON))
    if written is not None:
        return Reply(live=written)
    return await _show(deps, chat, tap.session_id, screen)


async def typed_note(deps: BotData, user_id: int, awaited: Awaited, text: str) -> Reply:
    """Save a typed note after a check-in, or refuse one longer than 500 characters."""
    note = parse_note(text)
    if note is None:
        return Reply.text(ct.NOTE_TOO_LONG.format(length=len(text.strip())))
    saved = await checkins.save_note(deps.db, user_id, awaited, note, deps.clock())
    return Reply.text(ct.NOTE_SAVED if saved else texts.UNKNOWN_TEXT)
