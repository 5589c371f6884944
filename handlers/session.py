"""/warmup: choose a routine, then walk through it one step message at a time.

Everything about the running session is in the database (position, phase, pending timer,
awaited input). Buttons carry (session, position, action) and are checked against it on every
tap; state changes are conditional updates, so double taps, stale buttons and two bot
processes never log a set twice. Countdowns are advanced by fire_due_timers, which a repeating
job calls; no handler ever sleeps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import progress
from bot.clock import clock_speed
from bot.coaching import session_texts as t
from bot.coaching import setup
from bot.coaching.catalogue import Catalogue
from bot.coaching.checkin import followup_due
from bot.coaching.profile import BANDS
from bot.coaching.session import (
    ABANDON_AFTER,
    ABANDONED,
    COMPLETED,
    DONE,
    FEWER,
    REST,
    SKIPPED,
    STEP,
    STOPPED,
    WORK,
    LoggedSet,
    Plan,
    PlanStep,
    Tap,
    Timer,
    after_set,
    countdown,
    is_stale,
    ordered_routines,
    outcome_for,
    parse_count,
    parse_phase,
    parse_tap,
    rest_segments,
    start_timer,
    summarise,
    work_segments,
)
from bot.coaching.setup import moves_of, parse_setup, pick_allowed, remembered_mask
from bot.context import CATALOGUE_KEY, CLOCK_KEY, DB_KEY, BandCoachApp, BandCoachContext
from handlers import checkin
from handlers import session_keyboards as kb
from storage import reminders as followups
from storage import repositories as repo
from storage import sessions as store
from storage.db import Database
from storage.models import User, WorkoutSession

logger = logging.getLogger(__name__)

TIMER_LOCK_KEY = "session_timer_lock"
IDLE_SWEEP_KEY = "session_idle_sweep_at"
IDLE_SWEEP_EVERY = timedelta(minutes=1)


# ---------------------------------------------------------------- rendering and messaging


def _cues(catalogue: Catalogue, exercise: str) -> tuple[str, ...]:
    """Return an exercise's cues, or none if the catalogue no longer has it."""
    found = catalogue.exercises.get(exercise)
    return found.cues if found else ()


def render(
    catalogue: Catalogue, row: WorkoutSession, now: datetime
) -> tuple[str, InlineKeyboardMarkup]:
    """Return the text and buttons that show a session's current state."""
    plan = Plan.from_json(row.plan)
    step = plan.steps[row.position]
    timer = parse_phase(row.phase)
    if timer is not None and row.timer_due_at is not None:
        started = timer.started_at(row.timer_due_at)
        if timer.kind == REST:
            tick = countdown(started, rest_segments(plan.steps[row.position - 1].rest_after), now)
            if not tick.finished:
                return t.rest_text(tick, step), kb.rest_keyboard(row.id, row.position)
        else:
            tick = countdown(started, work_segments(step), now)
            if not tick.finished:
                text = t.countdown_text(plan.routine_name, step, tick)
                return text, kb.countdown_keyboard(row.id, row.position)
    text = t.step_text(plan.routine_name, step, _cues(catalogue, step.exercise))
    if row.phase == FEWER:
        return f"{text}\n\n{t.HOW_MANY}", kb.fewer_keyboard(row.id, step)
    return text, kb.step_keyboard(row.id, step)


async def _edit(
    bot: Bot,
    chat_id: int,
    message_id: int | None,
    text: str,
    markup: InlineKeyboardMarkup | None,
    *,
    fallback: bool = True,
) -> int | None:
    """Edit a message in place (same content is fine); else send anew if `fallback`."""
    if message_id is not None:
        try:
            await bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
            return message_id
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return message_id
            logger.info("Could not edit message %s in chat %s: %s", message_id, chat_id, exc)
    if not fallback:
        return None
    return (await bot.send_message(chat_id, text, reply_markup=markup)).message_id


async def _send_current(
    bot: Bot, db: Database, catalogue: Catalogue, row: WorkoutSession, chat_id: int, now: datetime
) -> None:
    """Send the session's current state as a new message and make it the live one."""
    text, markup = render(catalogue, row, now)
    message = await bot.send_message(chat_id, text, reply_markup=markup)
    async with db.write() as session:
        await store.set_message(session, row.id, row.position, message.message_id)


async def _send_summary(
    bot: Bot, db: Database, row: WorkoutSession, chat_id: int, now: datetime, *, finished: bool
) -> None:
    """Send the end-of-session summary with the first check-in question."""
    plan = Plan.from_json(row.plan)
    async with db.read() as session:
        rows = await store.sets_of(session, row.id)
    sets = [
        LoggedSet(s.position, s.exercise_key, s.side, s.unit, s.target, s.actual, s.outcome)
        for s in rows
    ]
    summary = summarise(plan, sets, row.started_at, now, finished=finished)
    text, markup = checkin.first_question(row.id, t.summary_text(summary))
    await bot.send_message(chat_id, text, reply_markup=markup)


# ---------------------------------------------------------------- state changes


async def log_and_continue(
    bot: Bot,
    db: Database,
    catalogue: Catalogue,
    row: WorkoutSession,
    chat_id: int,
    now: datetime,
    *,
    actual: int,
    outcome: str,
) -> bool:
    """Log the set at the session's position and show what follows; False if already moved on."""
    plan = Plan.from_json(row.plan)
    step = plan.steps[row.position]
    nxt = after_set(plan, row.position, now)
    async with db.write() as session:
        moved = await store.move(
            session, row.id, position=row.position, phase=row.phase,
            expected_due=row.timer_due_at, new_position=nxt.position, new_phase=nxt.phase,
            timer_due_at=nxt.timer_due_at, now=now, status=COMPLETED if nxt.finished else None,
        )  # fmt: skip
        if not moved:
            return False
        await store.log_set(
            session, session_id=row.id, position=step.position, round_no=step.round_no,
            step_no=step.step_no, exercise_key=step.exercise, side=step.side, unit=step.unit,
            target=step.target, actual=actual, outcome=outcome, band=step.band, now=now,
        )  # fmt: skip
        await store.clear_session_awaiting(session, row.user_id, row.id)
        if nxt.finished:
            await followups.schedule_followup(session, row.user_id, row.id, followup_due(now), now)
        if not nxt.finished:
            await repo.set_awaiting(session, row.user_id, f"session:{row.id}")
    done_text = t.logged_text(plan.routine_name, step, outcome, actual)
    await _edit(bot, chat_id, row.message_id, done_text, None, fallback=False)
    if nxt.finished:
        await _send_summary(bot, db, row, chat_id, now, finished=True)
        return True
    row.position, row.phase, row.timer_due_at = nxt.position, nxt.phase, nxt.timer_due_at
    await _send_current(bot, db, catalogue, row, chat_id, now)
    return True


async def _change_phase(
    context: BandCoachContext,
    row: WorkoutSession,
    chat_id: int,
    new_phase: str,
    due: datetime | None,
    awaiting: str | None,
) -> bool:
    """Move the session to a new phase at the same position and redraw its message."""
    now = context.clock()
    async with context.db.write() as session:
        if not await store.move(
            session, row.id, position=row.position, phase=row.phase, new_phase=new_phase,
            timer_due_at=due, now=now,
        ):  # fmt: skip
            return False
        await repo.set_awaiting(session, row.user_id, awaiting)
    row.phase, row.timer_due_at = new_phase, due
    text, markup = render(context.catalogue, row, now)
    message_id = await _edit(context.bot, chat_id, row.message_id, text, markup)
    if message_id != row.message_id and message_id is not None:
        async with context.db.write() as session:
            await store.set_message(session, row.id, row.position, message_id)
    return True


async def _stop(context: BandCoachContext, row: WorkoutSession, chat_id: int) -> bool:
    """End the session early and send the summary."""
    now = context.clock()
    async with context.db.write() as session:
        if not await store.end_session(session, row.id, status=STOPPED, now=now):
            return False
        await store.clear_session_awaiting(session, row.user_id, row.id)
        await followups.schedule_followup(session, row.user_id, row.id, followup_due(now), now)
    if row.message_id is not None:
        try:
            await context.bot.edit_message_reply_markup(chat_id, row.message_id, reply_markup=None)
        except BadRequest as exc:
            logger.info("Could not clear the buttons of message %s: %s", row.message_id, exc)
    await _send_summary(context.bot, context.db, row, chat_id, now, finished=False)
    return True


# ---------------------------------------------------------------- button actions

Action = Callable[[BandCoachContext, WorkoutSession, int, Tap], Awaitable[bool | None]]


def _step(row: WorkoutSession) -> PlanStep:
    """Return the plan step at the session's position."""
    return Plan.from_json(row.plan).steps[row.position]


async def _log(
    context: BandCoachContext, row: WorkoutSession, chat_id: int, actual: int, outcome: str
) -> bool:
    """Log a set from a tap or typed number."""
    return await log_and_continue(
        context.bot, context.db, context.catalogue, row, chat_id, context.clock(),
        actual=actual, outcome=outcome,
    )  # fmt: skip


async def _on_done(context: BandCoachContext, row: WorkoutSession, chat: int, tap: Tap) -> Any:
    """Log the target."""
    if row.phase not in (STEP, FEWER):
        return None
    return await _log(context, row, chat, _step(row).target, DONE)


async def _on_count(context: BandCoachContext, row: WorkoutSession, chat: int, tap: Tap) -> Any:
    """Log the number tapped in the Fewer picker."""
    if row.phase != FEWER or tap.count is None:
        return None
    return await _log(context, row, chat, tap.count, outcome_for(tap.count, _step(row).target))


async def _on_skip(context: BandCoachContext, row: WorkoutSession, chat: int, tap: Tap) -> Any:
    """Log a skipped set."""
    timer = parse_phase(row.phase)
    if row.phase not in (STEP, FEWER) and (timer is None or timer.kind != WORK):
        return None
    return await _log(context, row, chat, 0, SKIPPED)


async def _on_fewer(context: BandCoachContext, row: WorkoutSession, chat: int, tap: Tap) -> Any:
    """Ask how many were done."""
    timer = parse_phase(row.phase)
    if row.phase != STEP and (timer is None or timer.kind != WORK):
        return None
    awaiting = f"count:{row.id}:{row.position}"
    return await _change_phase(context, row, chat, FEWER, None, awaiting)


async def _on_back(context: BandCoachContext, row: WorkoutSession, chat: int, tap: Tap) -> Any:
    """Leave the Fewer picker."""
    if row.phase != FEWER:
        return None
    return await _change_phase(context, row, chat, STEP, None, f"session:{row.id}")


async def _on_go(context: BandCoachContext, row: WorkoutSession, chat: int, tap: Tap) -> Any:
    """Start a timed step's countdown."""
    step = _step(row)
    if row.phase != STEP or not step.timed:
        return None
    tick, timer = start_timer(WORK, work_segments(step), context.clock())
    awaiting = f"session:{row.id}"
    return await _change_phase(context, row, chat, timer.phase, tick.next_due, awaiting)


async def _on_skip_rest(context: BandCoachContext, row: WorkoutSession, chat: int, tap: Tap) -> Any:
    """End a rest early."""
    timer = parse_phase(row.phase)
    if timer is None or timer.kind != REST:
        return None
    return await _change_phase(context, row, chat, STEP, None, f"session:{row.id}")


async def _on_stop(context: BandCoachContext, row: WorkoutSession, chat: int, tap: Tap) -> Any:
    """Stop the session."""
    return await _stop(context, row, chat)


ACTIONS: dict[str, Action] = {
    "done": _on_done,
    "count": _on_count,
    "skip": _on_skip,
    "fewer": _on_fewer,
    "back": _on_back,
    "go": _on_go,
    "skip_rest": _on_skip_rest,
    "stop": _on_stop,
}


def _refusal(row: WorkoutSession | None, user_id: int, tap: Tap) -> str | None:
    """Return why a tap cannot apply to this session, or None when it can."""
    if row is None:
        return t.BAD_BUTTON
    if row.user_id != user_id:
        return t.NOT_YOURS
    if row.status != store.ACTIVE:
        return t.SESSION_ENDED
    if tap.position < row.position:
        return t.STEP_DONE
    if tap.position > row.position:
        return t.NOT_NOW
    return None


async def on_session_button(update: Update, context: BandCoachContext) -> None:
    """Handle Done / Fewer / a number / Skip / Stop / Start timer / Skip rest."""
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and update.effective_user is not None and chat is not None
    tap = parse_tap(query.data or "")
    if tap is None:
        await query.answer(t.BAD_BUTTON, show_alert=True)
        return
    async with context.db.read() as session:
        row = await store.get_session(session, tap.session_id)
    refusal = _refusal(row, update.effective_user.id, tap)
    if refusal is None:
        assert row is not None
        applied = await ACTIONS[tap.action](context, row, chat.id, tap)
        if applied:
            await query.answer()
            return
        refusal = t.NOT_NOW if applied is None else t.STEP_DONE
        async with context.db.read() as session:
            row = await store.get_session(session, tap.session_id)
    await query.answer(refusal)
    if row is not None and row.user_id == update.effective_user.id and row.status == store.ACTIVE:
        await _send_current(context.bot, context.db, context.catalogue, row, chat.id,
                            context.clock())  # fmt: skip


# ---------------------------------------------------------------- typed input


async def on_typed_count(update: Update, context: BandCoachContext, user: User) -> None:
    """Log a typed 'how many' after Fewer, or explain and ask again."""
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and message.text is not None and chat is not None
    count = parse_count(message.text)
    if count is None:
        await message.reply_text(t.BAD_COUNT.format(text=message.text.strip()[:20]))
        return
    _, sid, pos = [*(user.awaiting or "").split(":"), "", ""][:3]
    async with context.db.read() as session:
        row = await store.get_session(session, int(sid)) if sid.isdigit() else None
    stale = row is None or row.user_id != user.id or str(row.position) != pos
    if stale or row is None or row.phase != FEWER or row.status != store.ACTIVE:
        await message.reply_text(t.STEP_DONE)
        return
    if not await _log(context, row, chat.id, count, outcome_for(count, _step(row).target)):
        await message.reply_text(t.STEP_DONE)


async def on_typed_in_session(update: Update, context: BandCoachContext, user: User) -> None:
    """Remind a user mid-session to use the buttons."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(t.USE_BUTTONS)


# ---------------------------------------------------------------- starting


async def _active_or_none(
    db: Database, user_id: int, now: datetime
) -> tuple[WorkoutSession | None, str | None]:
    """Return the user's active session (closing it first if idle too long) and last routine."""
    async with db.write() as session:
        active = await store.active_session(session, user_id)
        if active is not None and now - active.updated_at > ABANDON_AFTER:
            await store.end_session(session, active.id, status=ABANDONED, now=now)
            await store.clear_session_awaiting(session, user_id, active.id)
            due = followup_due(active.updated_at)
            await followups.schedule_followup(session, user_id, active.id, due, now)
            active = None
        return active, await store.last_routine(session, user_id)


async def warmup(update: Update, context: BandCoachContext) -> None:
    """Offer to resume a session in progress, or the routines with the suggestion first."""
    message, tg_user = update.effective_message, update.effective_user
    assert message is not None and tg_user is not None
    async with context.db.read() as session:
        user = await repo.get_user(session, tg_user.id)
    if user is None or user.onboarding_step is not None:
        await message.reply_text(t.NEED_ONBOARDING)
        return
    active, last = await _active_or_none(context.db, user.id, context.clock())
    if active is not None:
        plan = Plan.from_json(active.plan)
        where = t.where(plan.routine_name, plan.steps[active.position])
        await message.reply_text(
            t.ACTIVE_SESSION.format(where=where), reply_markup=kb.resume_keyboard(active.id)
        )
        return
    routines = ordered_routines(context.catalogue, user.goal, last)
    await message.reply_text(t.CHOOSE_ROUTINE, reply_markup=kb.routines_keyboard(routines))


async def _ask_band(
    update: Update, context: BandCoachContext, key: str, rounds: int, mask: int | None
) -> None:
    """Edit the setup message into the one-tap band confirmation."""
    assert update.callback_query is not None and update.effective_user is not None
    async with context.db.read() as session:
        user = await repo.get_user(session, update.effective_user.id)
        rx = await progress.prescription(session, context.catalogue, update.effective_user.id)
    current = user.band if user is not None and user.band in BANDS else None
    current = rx.routine(key).band or current  # the band the progression has reached
    routine = context.catalogue.routine(key)
    moves = moves_of(routine, mask)
    name = f"{routine.name} · {t.names(context.catalogue, moves)}" if moves else routine.name
    template = t.CHOOSE_BAND if current else t.PICK_BAND
    text = template.format(routine=name, rounds=rounds, rounds_word=t.rounds_word(rounds))
    await update.callback_query.edit_message_text(
        text, reply_markup=kb.band_keyboard(routine, rounds, current, mask)
    )


async def _ask_moves(update: Update, context: BandCoachContext, key: str, mask: int) -> None:
    """Edit the setup message into the move picker with `mask` ticked."""
    assert update.callback_query is not None
    routine = context.catalogue.routine(key)
    assert routine.choice is not None
    moves = moves_of(routine, mask) or ()
    text = t.moves_text(context.catalogue, routine.name, routine.choice, moves)
    try:
        await update.callback_query.edit_message_text(
            text, reply_markup=kb.moves_keyboard(context.catalogue, routine, mask)
        )
    except BadRequest as exc:  # a double tap on a toggle: the message already shows it
        if "not modified" not in str(exc).lower():
            raise


async def _begin(
    update: Update,
    context: BandCoachContext,
    key: str,
    rounds: int,
    band: str,
    moves: tuple[str, ...] | None,
) -> None:
    """Create the session and send its first step."""
    query, chat, tg_user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and chat is not None and tg_user is not None
    now = context.clock()
    async with context.db.write() as session:
        start = await progress.plan_session(
            session, context.catalogue, tg_user.id, key, rounds, band, now, moves
        )
        plan = start.plan
        row = await store.create_session(
            session, user_id=tg_user.id, routine_key=key, rounds=rounds, band=band,
            plan=plan.to_json(), now=now,
        )  # fmt: skip
        if row is not None:
            await repo.set_awaiting(session, tg_user.id, f"session:{row.id}")
            await progress.keep_start(session, tg_user.id, start, now)
    if row is None:
        await query.answer(t.ALREADY_STARTED)
        return
    await query.answer()
    await query.edit_message_text(
        t.STARTING.format(routine=plan.routine_name, rounds=rounds,
                          rounds_word=t.rounds_word(rounds), band=band)
        + "".join(f"\n\n{reason}" for reason in start.reasons[:1])
        + "".join(f"\n• {reason}" for reason in start.reasons[1:])
    )  # fmt: skip
    await _send_current(context.bot, context.db, context.catalogue, row, chat.id, now)


async def _resume_or_abandon(
    update: Update, context: BandCoachContext, action: str, sid: int
) -> None:
    """Resend the current step of a session in progress, or close it and offer the routines."""
    query, chat, tg_user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and chat is not None and tg_user is not None
    now = context.clock()
    async with context.db.write() as session:
        row = await store.get_session(session, sid)
        user = await repo.get_user(session, tg_user.id)
        owned = row is not None and row.user_id == tg_user.id and row.status == store.ACTIVE
        if owned and action == kb.ABANDON:
            owned = await store.end_session(session, sid, status=ABANDONED, now=now)
            await store.clear_session_awaiting(session, tg_user.id, sid)
            if owned and row is not None:
                due = followup_due(row.updated_at)
                await followups.schedule_followup(session, tg_user.id, sid, due, now)
    if row is None or not owned:
        await query.answer(t.SESSION_ENDED)
        return
    await query.answer()
    if action == kb.RESUME:
        await query.edit_message_reply_markup(None)
        await _send_current(context.bot, context.db, context.catalogue, row, chat.id, now)
        return
    routines = ordered_routines(context.catalogue, user.goal if user else None, row.routine_key)
    await query.edit_message_text(
        f"{t.ABANDONED}\n\n{t.CHOOSE_ROUTINE}", reply_markup=kb.routines_keyboard(routines)
    )


async def _remembered_mask(context: BandCoachContext, user_id: int, key: str) -> int:
    """Return the moves to tick first: the user's last pick for this routine, else its own."""
    async with context.db.read() as session:
        last = await store.last_plan(session, user_id, key)
    return remembered_mask(context.catalogue.routine(key), last)


async def on_setup_button(update: Update, context: BandCoachContext) -> None:
    """Handle the routine, moves, rounds and band choices, and Resume / Abandon."""
    query, tg_user = update.callback_query, update.effective_user
    assert query is not None and tg_user is not None
    tap = parse_setup(context.catalogue, query.data or "")
    if tap is None:
        await query.answer(t.BAD_BUTTON, show_alert=True)
        return
    if tap.kind in (kb.RESUME, kb.ABANDON):
        assert tap.session_id is not None
        await _resume_or_abandon(update, context, tap.kind, tap.session_id)
        return
    routine = context.catalogue.routine(tap.routine)
    if tap.kind == setup.BAND:
        assert tap.rounds is not None and tap.band is not None
        moves = moves_of(routine, tap.mask)
        await _begin(update, context, routine.key, tap.rounds, tap.band, moves)
        return
    if tap.kind == setup.GO and not pick_allowed(routine, tap.mask):
        assert routine.choice is not None
        ticked = len(moves_of(routine, tap.mask) or ())
        await query.answer(t.PICK_COUNT.format(count=t.pick_count(routine.choice), ticked=ticked))
        return
    await query.answer()
    if tap.kind == setup.MOVES or (tap.kind == setup.ROUTINE and routine.choice is not None):
        mask = tap.mask
        if mask is None:
            mask = await _remembered_mask(context, tg_user.id, routine.key)
        await _ask_moves(update, context, routine.key, mask)
        return
    rx = await progress.routine_prescription(context.db, context.catalogue, tg_user.id, routine.key)
    if tap.kind in (setup.ROUTINE, setup.GO) and len(routine.round_choices) > 1:
        text = t.CHOOSE_ROUNDS.format(routine=routine.name)
        markup = kb.rounds_keyboard(routine, rx.rounds, tap.mask)
        await query.edit_message_text(text, reply_markup=markup)
        return
    rounds = tap.rounds if tap.rounds is not None else rx.rounds
    await _ask_band(update, context, routine.key, rounds, tap.mask)


# ---------------------------------------------------------------- timers


async def _advance_timer(
    bot: Bot,
    db: Database,
    catalogue: Catalogue,
    row: WorkoutSession,
    chat_id: int,
    now: datetime,
    speed: float,
) -> None:
    """Advance one due countdown: the next edit, the end of a rest, or a finished timed set."""
    timer, due = parse_phase(row.phase), row.timer_due_at
    plan = Plan.from_json(row.plan)
    step = plan.step(row.position)
    assert due is not None
    if timer is None or step is None:
        async with db.write() as session:  # a timer on a phase without one: drop it
            await store.move(session, row.id, position=row.position, phase=row.phase,
                             expected_due=due, now=now)  # fmt: skip
        return
    segments = (
        work_segments(step) if timer.kind == WORK
        else rest_segments(plan.steps[row.position - 1].rest_after)
    )  # fmt: skip
    tick = countdown(timer.started_at(due), segments, now)
    stale = is_stale(due, now, speed)
    if tick.finished and timer.kind == WORK and not stale:
        await log_and_continue(bot, db, catalogue, row, chat_id, now, actual=step.target,
                               outcome=DONE)  # fmt: skip
        return
    to_step = stale or tick.finished
    new_phase = STEP if to_step else Timer(timer.kind, tick.next_offset or 0).phase
    async with db.write() as session:
        if not await store.move(
            session, row.id, position=row.position, phase=row.phase, expected_due=due,
            new_phase=new_phase, timer_due_at=None if to_step else tick.next_due, now=now,
        ):  # fmt: skip
            return
    row.phase, row.timer_due_at = new_phase, None if to_step else tick.next_due
    if stale:
        # After downtime: no replay of missed edits, just the step as a fresh message.
        await _send_current(bot, db, catalogue, row, chat_id, now)
        return
    text, markup = render(catalogue, row, now)
    await _edit(bot, chat_id, row.message_id, text, markup, fallback=to_step)


async def _sweep_idle(app: BandCoachApp, db: Database, now: datetime) -> None:
    """Close sessions with no activity for ABANDON_AFTER, at most once a minute."""
    last = app.bot_data.get(IDLE_SWEEP_KEY)
    if last is not None and now - last < IDLE_SWEEP_EVERY:
        return
    app.bot_data[IDLE_SWEEP_KEY] = now
    async with db.write() as session:
        await followups.schedule_idle_followups(session, now - ABANDON_AFTER, now)
        closed = await store.abandon_idle(session, now - ABANDON_AFTER, now)
    if closed:
        logger.info("Closed %d idle session(s) as abandoned", closed)


async def fire_due_timers(app: BandCoachApp, now: datetime) -> int:
    """Advance every session whose timer is due at `now`; return how many were due."""
    lock: asyncio.Lock = app.bot_data.setdefault(TIMER_LOCK_KEY, asyncio.Lock())
    db: Database = app.bot_data[DB_KEY]
    speed = clock_speed(app.bot_data.get(CLOCK_KEY))
    catalogue: Catalogue = app.bot_data[CATALOGUE_KEY]
    async with lock:
        await _sweep_idle(app, db, now)
        async with db.read() as session:
            due = await store.due_timers(session, now)
        results = await asyncio.gather(
            *(_advance_timer(app.bot, db, catalogue, row, chat, now, speed) for row, chat in due),
            return_exceptions=True,
        )
    for (row, _), result in zip(due, results, strict=True):
        if isinstance(result, BaseException):
            logger.error("Timer of session %s failed", row.id, exc_info=result)
    return len(due)


async def timers_job(context: BandCoachContext) -> None:
    """JobQueue callback: fire the session timers that are due now."""
    await fire_due_timers(context.application, context.clock())
