"""The pain check-in: pain, where, weaker side, an optional note; /checkin and /plan.

The check-in is one message edited in place, below whatever it was attached to (the session
summary, a follow-up, or /checkin's intro). The answers so far ride in the buttons; each tap is
checked against the database, and only the last one (the side) saves anything.
"""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import checkins
from bot import progress as plans
from bot.coaching import checkin_texts as ct
from bot.coaching import texts
from bot.coaching.checkin import AREAS_DONE, NO_NOTE, PAIN, SIDE, Tap, parse_note, parse_tap
from bot.coaching.reminder_texts import local_date
from bot.context import BandCoachContext
from handlers import checkin_keyboards as kb
from storage import repositories as repo
from storage.models import User

logger = logging.getLogger(__name__)

REFUSALS: dict[str, str] = {
    checkins.UNKNOWN: ct.BAD_BUTTON,
    checkins.NOT_YOURS: ct.NOT_YOURS,
    checkins.RUNNING: ct.FINISH_FIRST,
    checkins.CLOSED: ct.TOO_LATE,
    checkins.ALREADY: ct.ALREADY_SAVED,
}


def first_question(session_id: int, head: str) -> tuple[str, InlineKeyboardMarkup]:
    """Return the pain question below `head` (a summary or an intro) with its buttons."""
    return ct.with_head(head, ct.PAIN_QUESTION), kb.pain_keyboard(session_id)


def next_question(tap: Tap, head: str) -> tuple[str, InlineKeyboardMarkup]:
    """Return the question that follows a pain, area or "that's all" tap."""
    if tap.kind == AREAS_DONE or (tap.kind == PAIN and tap.pain == 0):
        question = ct.SIDE_QUESTION.format(pain=tap.pain, where=ct.where(tap.areas))
        return ct.with_head(head, question), kb.side_keyboard(tap.session_id, tap.pain, tap.mask)
    question = ct.AREAS_QUESTION.format(pain=tap.pain)
    return ct.with_head(head, question), kb.areas_keyboard(tap.session_id, tap.pain, tap.mask)


async def _edit(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Edit the tapped message; a double tap that changes nothing is fine."""
    assert update.callback_query is not None
    try:
        await update.callback_query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        logger.debug("Check-in message not edited: %s", exc)


async def _onboarded(update: Update, context: BandCoachContext) -> User | None:
    """Return the onboarded user behind a command, or ask them to /start."""
    assert update.effective_user is not None and update.effective_message is not None
    async with context.db.read() as session:
        user = await repo.get_user(session, update.effective_user.id)
    if user is None or user.onboarding_step is not None:
        await update.effective_message.reply_text(ct.NEED_START)
        return None
    return user


async def checkin_command(update: Update, context: BandCoachContext) -> None:
    """Start a check-in for the last session without one, or a re-answer within 12 hours."""
    user = await _onboarded(update, context)
    if user is None:
        return
    assert update.effective_message is not None
    target = await checkins.for_command(context.db, user.id, context.clock())
    row = target.session
    if row is None or not target.answerable:
        text = ct.FINISH_FIRST if target.status == checkins.RUNNING else ct.NOTHING_TO_CHECK
        await update.effective_message.reply_text(text)
        return
    name = context.catalogue.routines.get(row.routine_key)
    routine = name.name if name else row.routine_key
    if target.checkin is not None:
        head = ct.REANSWER.format(routine=routine, pain=target.checkin.pain)
    else:
        head = ct.CHECKIN_FOR.format(
            routine=routine, when=local_date(row.started_at, user.timezone)
        )
    text, markup = first_question(row.id, head)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def plan_command(update: Update, context: BandCoachContext) -> None:
    """Show the current prescription for every routine."""
    user = await _onboarded(update, context)
    if user is None:
        return
    assert update.effective_message is not None
    async with context.db.read() as session:
        current = await plans.prescription(session, context.catalogue, user.id)
    await update.effective_message.reply_text(ct.plan_text(context.catalogue, current))


async def _save(update: Update, context: BandCoachContext, tap: Tap, head: str) -> None:
    """Save the answers after the last tap, then show what changed and when to train next."""
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None and update.effective_user is not None
    now: datetime = context.clock()
    saved = await checkins.save_answer(
        context.db, context.catalogue, update.effective_user.id, tap.session_id, tap.checkin(), now
    )
    if saved.progression is None:
        await query.answer(REFUSALS.get(saved.status, ct.BAD_BUTTON))
        return
    await query.answer()
    confirm = f"{ct.saved(tap.pain, tap.areas, tap.side)}\n\n{ct.NOTE_PROMPT}"
    await _edit(update, ct.with_head(head, confirm), kb.note_keyboard(tap.session_id))
    result = saved.progression
    next_line = ct.next_session(
        deload=result.deload, reminder=saved.reminder, zone=saved.timezone, now=now
    )
    again = saved.again
    text = ct.changes(result.reasons, safety=result.safety, again=again, next_line=next_line)
    await context.bot.send_message(chat.id, text)


async def on_button(update: Update, context: BandCoachContext) -> None:
    """Handle a check-in button: pain, an area, that's all, the side, or no note."""
    query, tg_user = update.callback_query, update.effective_user
    assert query is not None and tg_user is not None
    tap = parse_tap(query.data or "")
    if tap is None:
        await query.answer(ct.BAD_BUTTON, show_alert=True)
        return
    shown: str = getattr(query.message, "text", None) or ""  # None if the message is too old
    head = ct.head_of(shown)
    if tap.kind == NO_NOTE:
        await checkins.skip_note(context.db, tg_user.id, tap.session_id)
        await query.answer(ct.NO_NOTE_DONE)
        await _edit(update, shown.replace(ct.NOTE_PROMPT, ct.NO_NOTE_DONE) or ct.NO_NOTE_DONE, None)
        return
    if tap.kind == SIDE:
        await _save(update, context, tap, head)
        return
    now = context.clock()
    if tap.kind in (PAIN, AREAS_DONE):
        # Store the answers so far at once: a pain of 8 must count even if nothing follows.
        saved = await checkins.save_answer(
            context.db, context.catalogue, tg_user.id, tap.session_id, tap.checkin(), now,
            partial=True,
        )  # fmt: skip
        status = checkins.OPEN if saved.status == checkins.ALREADY else saved.status
    else:
        status = (await checkins.check_tap(context.db, tg_user.id, tap.session_id, now)).status
    if status not in (checkins.OPEN, checkins.REANSWER):
        await query.answer(REFUSALS.get(status, ct.BAD_BUTTON))
        return
    await query.answer()
    await _edit(update, *next_question(tap, head))


async def on_typed_note(update: Update, context: BandCoachContext, user: User) -> None:
    """Save a typed note after a check-in, or refuse one longer than 500 characters."""
    message = update.effective_message
    assert message is not None and message.text is not None
    note = parse_note(message.text)
    if note is None:
        await message.reply_text(ct.NOTE_TOO_LONG.format(length=len(message.text.strip())))
        return
    saved = await checkins.save_note(context.db, user.id, user.awaiting, note, context.clock())
    await message.reply_text(ct.NOTE_SAVED if saved else texts.UNKNOWN_TEXT)
