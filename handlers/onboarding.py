"""/start onboarding: goal, band, reminder schedule, time zone, in four taps."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import BadRequest

from bot.coaching import texts
from bot.coaching.profile import (
    BANDS,
    COMMON_TIMEZONES,
    DEFAULT_DAYS_MASK,
    DEFAULT_REMINDER_TIME,
    GOALS,
    NO_BAND,
    PRESETS_BY_KEY,
    parse_clock_time,
    parse_timezone,
)
from bot.context import BandCoachContext
from handlers.keyboards import onboarding_keyboard, settings_menu
from storage import reminders as reminder_store
from storage import repositories as repo
from storage.models import User

logger = logging.getLogger(__name__)

FIRST_STEP = texts.ONBOARDING_STEPS[0]


def _next_step(step: str) -> str | None:
    """Return the step after `step`, or None when onboarding is complete."""
    steps = texts.ONBOARDING_STEPS
    i = steps.index(step)
    return steps[i + 1] if i + 1 < len(steps) else None


async def _current_value(session: AsyncSession, user: User, step: str) -> str | None:
    """Return the user's saved answer for a step, to tick it on the keyboard."""
    if step == "goal":
        return user.goal
    if step == "band":
        return user.band
    if step == "timezone":
        return user.timezone if user.onboarded_at else None
    reminders = await repo.get_reminder_settings(session, user.id)
    if reminders is None:
        return None
    if not reminders.enabled:
        return "off"
    for key, preset in PRESETS_BY_KEY.items():
        if (preset.days_mask, preset.at) == (reminders.days_mask, reminders.local_time):
            return key
    return None


async def _ask(
    update: Update,
    context: BandCoachContext,
    user: User,
    step: str,
    *,
    intro: str | None = None,
    prefix: str | None = None,
    edit: bool = False,
) -> None:
    """Send (or edit into place) the question for `step` with its keyboard."""
    async with context.db.read() as session:
        current = await _current_value(session, user, step)
    text = texts.question(step, intro=intro)
    if prefix:
        text = f"{prefix}\n\n{text}"
    markup = onboarding_keyboard(
        step,
        current=current,
        default_timezone=context.settings.default_timezone,
        zones=COMMON_TIMEZONES,
    )
    query = update.callback_query
    if edit and query is not None:
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as exc:
            logger.debug("Could not edit the onboarding message: %s", exc)
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


async def settings_summary(context: BandCoachContext, user_id: int, heading: str) -> str:
    """Return the user's settings as a short summary under `heading`."""
    async with context.db.read() as session:
        user = await repo.get_user(session, user_id)
        assert user is not None
        reminders = await repo.get_reminder_settings(session, user_id)
    schedule = (
        texts.schedule_label(reminders.days_mask, reminders.local_time, reminders.enabled)
        if reminders
        else texts.schedule_label(DEFAULT_DAYS_MASK, DEFAULT_REMINDER_TIME, True)
    )
    return texts.summary(
        goal=user.goal, band=user.band, schedule=schedule, timezone=user.timezone, heading=heading
    )


async def start(update: Update, context: BandCoachContext) -> None:
    """Register or welcome back the user and continue or offer to change their settings."""
    tg_user, chat = update.effective_user, update.effective_chat
    assert tg_user is not None and chat is not None and update.effective_message is not None
    async with context.db.write() as session:
        user, created = await repo.register_user(
            session,
            user_id=tg_user.id,
            chat_id=chat.id,
            first_name=tg_user.first_name,
            timezone=context.settings.default_timezone,
            first_step=FIRST_STEP,
        )
        if not created:  # a returning (maybe unblocked) user gets their reminders back
            await reminder_store.ensure_scheduled(session, user.id, context.clock())
    if created:
        intro = texts.INTRO.format(name=tg_user.first_name)
        await _ask(update, context, user, FIRST_STEP, intro=intro)
    elif user.onboarding_step is not None:
        resume = "Let's pick up where we were."
        await _ask(update, context, user, user.onboarding_step, prefix=resume)
    else:
        heading = f"Welcome back, {tg_user.first_name}! Your settings:"
        text = await settings_summary(context, user.id, heading)
        await update.effective_message.reply_text(text, reply_markup=settings_menu())


def _values_for(step: str, value: str) -> dict[str, Any] | None:
    """Return the user columns a tapped onboarding value sets, or None if it is not valid."""
    if step == "goal" and value in GOALS:
        return {"goal": value}
    if step == "band" and value in (*BANDS, NO_BAND):
        return {"band": value}
    if step == "schedule" and value in PRESETS_BY_KEY:
        return {}
    if step == "timezone" and parse_timezone(value) == value:
        return {"timezone": value}
    return None


async def _apply(
    update: Update,
    context: BandCoachContext,
    step: str,
    values: dict[str, Any],
    preset_key: str | None = None,
    typed_time: Any = None,
) -> bool:
    """Save one onboarding answer and move on; return False if the step had already moved."""
    assert update.effective_user is not None
    uid = update.effective_user.id
    nxt = _next_step(step)
    async with context.db.write() as session:
        if not await repo.advance_onboarding(session, uid, step, nxt, **values):
            return False
        if step == "schedule":
            preset = PRESETS_BY_KEY.get(preset_key or "")
            at = typed_time or (preset.at if preset else None)
            await repo.save_reminder_schedule(
                session,
                uid,
                days_mask=preset.days_mask if preset else DEFAULT_DAYS_MASK,
                at=at or DEFAULT_REMINDER_TIME,
                enabled=at is not None,
            )
        if nxt is None:  # onboarding complete: schedule the first reminder in the chosen zone
            await reminder_store.reschedule(session, uid, context.clock())
        user = await repo.get_user(session, uid)
        assert user is not None
        await session.refresh(user)
    if nxt is not None:
        await _ask(update, context, user, nxt, edit=update.callback_query is not None)
        return True
    done = await settings_summary(context, uid, "All set ✅")
    text = f"{done}\n\n{texts.SAFETY}\n\nSend /help to see what I can do."
    if update.callback_query is not None:
        await update.callback_query.edit_message_text(text)
    else:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, text)
    return True


async def on_button(update: Update, context: BandCoachContext) -> None:
    """Handle a tap on an onboarding choice, rejecting stale and forged buttons."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    _, step, value = [*query.data.split(":", 2), "", ""][:3]
    values = _values_for(step, value) if step in texts.ONBOARDING_STEPS else None
    if values is None:
        await query.answer(texts.UNKNOWN_BUTTON, show_alert=True)
        return
    if await _apply(update, context, step, values, preset_key=value):
        await query.answer()
        return
    async with context.db.read() as session:
        user = await repo.get_user(session, update.effective_user.id)
    if user is None:
        await query.answer(texts.NEED_START, show_alert=True)
    elif user.onboarding_step is None:
        await query.answer(texts.ALREADY_DONE)
    else:
        await query.answer(texts.STALE_BUTTON)
        await _ask(update, context, user, user.onboarding_step)


async def on_settings_menu(update: Update, context: BandCoachContext) -> None:
    """Handle 'Change settings' or 'Keep as is' after a repeated /start."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    action = query.data.partition(":")[2]
    if action == "keep":
        await query.answer()
        await query.edit_message_text(texts.KEPT)
        return
    if action != "change":
        await query.answer(texts.UNKNOWN_BUTTON, show_alert=True)
        return
    async with context.db.write() as session:
        user = await repo.get_user(session, update.effective_user.id)
        if user is None:
            await query.answer(texts.NEED_START, show_alert=True)
            return
        await repo.restart_onboarding(session, user.id, FIRST_STEP)
        await session.refresh(user)
    await query.answer()
    await _ask(update, context, user, FIRST_STEP, edit=True)


async def on_typed(update: Update, context: BandCoachContext, user: User) -> None:
    """Handle text typed mid-onboarding: a time at the schedule step, a zone at the last."""
    message = update.effective_message
    assert message is not None and message.text is not None and user.onboarding_step is not None
    step, text = user.onboarding_step, message.text.strip()
    if step == "timezone":
        zone = parse_timezone(text)
        if zone is not None and await _apply(update, context, step, {"timezone": zone}):
            return
        prefix = texts.UNKNOWN_ZONE.format(text=text[:64])
    elif step == "schedule":
        at = parse_clock_time(text)
        if at is not None and await _apply(update, context, step, {}, typed_time=at):
            return
        prefix = texts.BAD_TIME.format(text=text[:64])
    else:
        prefix = texts.TAP_PLEASE
    async with context.db.read() as session:
        fresh = await repo.get_user(session, user.id)
    if fresh is not None and fresh.onboarding_step is not None:
        await _ask(update, context, fresh, fresh.onboarding_step, prefix=prefix)
