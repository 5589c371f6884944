"""/reminders settings, typed time and zone, shared locations, and taps on a nudge."""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.coaching import reminder_texts as rt
from bot.coaching import texts
from bot.coaching.profile import parse_clock_time, parse_timezone
from bot.coaching.schedule import pause_for_week, zone_at
from bot.context import BandCoachContext
from handlers import reminder_keyboards as kb
from handlers import session as session_handlers
from storage import reminders as store
from storage import repositories as repo
from storage.models import User

logger = logging.getLogger(__name__)

AWAIT_TIME = "reminder_time"
AWAIT_ZONE = "reminder_tz"


async def _reply(
    update: Update, context: BandCoachContext, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Edit the tapped message into `text`, or send a new message for typed input."""
    query = update.callback_query
    if query is not None:
        try:
            await query.edit_message_text(text, reply_markup=markup)
            return
        except BadRequest as exc:  # e.g. "message is not modified" after a double tap
            logger.debug("Could not edit the reminders message: %s", exc)
            return
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=markup)


async def _onboarded(update: Update, context: BandCoachContext) -> User | None:
    """Return the onboarded user behind an update, or tell them to /start first."""
    assert update.effective_user is not None
    async with context.db.read() as session:
        user = await repo.get_user(session, update.effective_user.id)
    if user is not None and user.onboarding_step is None:
        return user
    if update.callback_query is not None:
        await update.callback_query.answer(texts.NEED_START, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(texts.NEED_START)
    return None


async def show_menu(
    update: Update, context: BandCoachContext, user_id: int, prefix: str = ""
) -> None:
    """Show the reminder schedule with its buttons."""
    async with context.db.read() as session:
        view = await store.reminder_settings_view(session, user_id)
    assert view is not None
    user, settings = view
    now = context.clock()
    text = rt.menu(
        days_mask=settings.days_mask,
        at=settings.local_time,
        zone=user.timezone,
        enabled=settings.enabled,
        paused_until=settings.paused_until,
        next_due=settings.next_due_at,
        now=now,
    )
    paused = settings.paused_until is not None and settings.paused_until > now
    markup = kb.menu_keyboard(enabled=settings.enabled, paused=paused)
    await _reply(update, context, f"{prefix}\n\n{text}" if prefix else text, markup)


async def reminders_command(update: Update, context: BandCoachContext) -> None:
    """Show the reminder schedule (/reminders)."""
    user = await _onboarded(update, context)
    if user is not None:
        async with context.db.write() as session:
            await repo.set_awaiting(session, user.id, None)
        await show_menu(update, context, user.id)


async def _save(
    update: Update, context: BandCoachContext, user_id: int, note: str = rt.SAVED, **changes: Any
) -> None:
    """Save reminder changes, reschedule, stop awaiting input and show the menu again."""
    async with context.db.write() as session:
        await store.update_settings(session, user_id, context.clock(), **changes)
        await repo.set_awaiting(session, user_id, None)
    await show_menu(update, context, user_id, prefix=note)


async def _toggle_day(update: Update, context: BandCoachContext, user: User, day: int) -> None:
    """Toggle one weekday; refuse an empty set and offer to pause instead."""
    async with context.db.read() as session:
        _, settings = await store.reminder_settings_view(session, user.id) or (None, None)
    assert settings is not None
    mask = settings.days_mask ^ (1 << day)
    if mask == 0:
        await _reply(update, context, rt.EMPTY_DAYS, kb.empty_days_keyboard())
        return
    async with context.db.write() as session:
        await store.update_settings(session, user.id, context.clock(), days_mask=mask)
    warn = f"\n\n{rt.FEW_DAYS}" if bin(mask).count("1") < rt.MIN_DAYS_RECOMMENDED else ""
    await _reply(update, context, rt.ASK_DAYS + warn, kb.days_keyboard(mask))


async def _ask(update: Update, context: BandCoachContext, user: User, what: str) -> None:
    """Ask for days, a time or a time zone; the latter two also accept typed input."""
    async with context.db.write() as session:
        await repo.set_awaiting(session, user.id, {"time": AWAIT_TIME, "tz": AWAIT_ZONE}.get(what))
        _, settings = await store.reminder_settings_view(session, user.id) or (None, None)
    assert settings is not None
    if what == "days":
        await _reply(update, context, rt.ASK_DAYS, kb.days_keyboard(settings.days_mask))
    elif what == "time":
        await _reply(update, context, rt.ASK_TIME, kb.time_keyboard(settings.local_time))
    else:
        await _reply(update, context, rt.ASK_ZONE, kb.zone_keyboard(user.timezone))


async def _set_zone(update: Update, context: BandCoachContext, user_id: int, zone: str) -> None:
    """Save a new time zone and show the menu."""
    async with context.db.write() as session:
        await store.set_timezone(session, user_id, zone, context.clock())
    await show_menu(update, context, user_id, prefix=rt.SAVED)


async def on_settings_button(update: Update, context: BandCoachContext) -> None:
    """Handle a tap in the /reminders menu (rs:…), refusing unknown or forged data."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, action, arg = [*query.data.split(":", 2), "", ""][:3]
    user = await _onboarded(update, context)
    if user is None:
        return
    at = _hhmm(arg) if action == "at" else None
    if (
        (action == "day" and arg not in {"0", "1", "2", "3", "4", "5", "6"})
        or (action == "at" and at is None)
        or (action == "zone" and parse_timezone(arg) != arg)
        or action
        not in {"menu", "done", "days", "time", "tz", "day", "at", "zone", "pw", "po", "resume"}
    ):
        await query.answer(texts.UNKNOWN_BUTTON, show_alert=True)
        return
    await query.answer()
    await _settings_action(update, context, user, action, arg, at)


async def _settings_action(
    update: Update, context: BandCoachContext, user: User, action: str, arg: str, at: time | None
) -> None:
    """Carry out one validated /reminders action."""
    now = context.clock()
    if action == "menu":
        await show_menu(update, context, user.id)
    elif action == "done":
        await _reply(update, context, rt.SAVED, None)
    elif action in {"days", "time", "tz"}:
        await _ask(update, context, user, action)
    elif action == "day":
        await _toggle_day(update, context, user, int(arg))
    elif action == "at":
        await _save(update, context, user.id, local_time=at)
    elif action == "zone":
        await _set_zone(update, context, user.id, arg)
    elif action == "pw":
        until = pause_for_week(now, user.timezone)
        note = rt.PAUSED_WEEK.format(until=rt.local_date(until, user.timezone))
        await _save(update, context, user.id, note, enabled=True, paused_until=until)
    elif action == "po":
        await _save(update, context, user.id, rt.PAUSED_OFF, enabled=False, paused_until=None)
    else:
        await _save(update, context, user.id, rt.RESUMED, enabled=True, paused_until=None)


def _hhmm(value: str) -> time | None:
    """Return the time in compact 'HHMM' callback data, or None."""
    if len(value) != 4 or not value.isdigit():
        return None
    hour, minute = int(value[:2]), int(value[2:])
    return time(hour, minute) if hour < 24 and minute < 60 else None


async def on_typed_time(update: Update, context: BandCoachContext, user: User) -> None:
    """Accept a typed reminder time, or explain and ask again."""
    message = update.effective_message
    assert message is not None and message.text is not None
    at = parse_clock_time(message.text)
    if at is not None:
        await _save(update, context, user.id, local_time=at)
        return
    async with context.db.read() as session:
        _, settings = await store.reminder_settings_view(session, user.id) or (None, None)
    assert settings is not None
    text = f"{rt.BAD_TIME.format(text=message.text.strip()[:32])}\n\n{rt.ASK_TIME}"
    await message.reply_text(text, reply_markup=kb.time_keyboard(settings.local_time))


async def on_typed_zone(update: Update, context: BandCoachContext, user: User) -> None:
    """Accept a typed time zone, or explain and ask again."""
    message = update.effective_message
    assert message is not None and message.text is not None
    zone = parse_timezone(message.text)
    if zone is not None:
        await _set_zone(update, context, user.id, zone)
        return
    text = f"{rt.UNKNOWN_ZONE.format(text=message.text.strip()[:64])}\n\n{rt.ASK_ZONE}"
    await message.reply_text(text, reply_markup=kb.zone_keyboard(user.timezone))


async def on_location(update: Update, context: BandCoachContext) -> None:
    """Set the time zone from a shared location while /reminders asks for one."""
    message = update.effective_message
    assert message is not None and message.location is not None
    user = await _onboarded(update, context)
    if user is None:
        return
    if (user.awaiting or "") != AWAIT_ZONE:
        await message.reply_text(rt.NOT_WAITING_LOCATION)
        return
    zone = zone_at(message.location.latitude, message.location.longitude)
    if zone is None:
        await message.reply_text(rt.OCEAN, reply_markup=kb.zone_keyboard(user.timezone))
        return
    await _set_zone(update, context, user.id, zone)


async def on_nudge_button(update: Update, context: BandCoachContext) -> None:
    """Handle Start now / Snooze 1 h / Skip today on a reminder, checked against its slot."""
    query, tg_user = update.callback_query, update.effective_user
    assert query is not None and query.data is not None and tg_user is not None
    _, action, raw_id = [*query.data.split(":", 2), "", ""][:3]
    async with context.db.read() as session:
        valid_id = raw_id.isdigit() and len(raw_id) <= 18  # fits a BIGINT
        slot = await store.get_slot(session, int(raw_id)) if valid_id else None
        user = await repo.get_user(session, tg_user.id)
    if slot is None or user is None or slot.user_id != user.id or action not in kb.NUDGE_ACTIONS:
        await query.answer(texts.UNKNOWN_BUTTON, show_alert=True)
        return
    done, due = await _apply_nudge_action(context, action, slot.id, user.id)
    if not done:
        await query.answer(rt.ALREADY_HANDLED)
        return
    await query.answer()
    if action == kb.START:
        await _start_session(update, context)
    elif action == kb.SNOOZE:
        assert due is not None
        await _reply(
            update, context, rt.SNOOZED.format(at=rt.local_clock(due, user.timezone)), None
        )
    else:
        await _reply(update, context, rt.SKIPPED, None)


async def _apply_nudge_action(
    context: BandCoachContext, action: str, slot_id: int, user_id: int
) -> tuple[bool, datetime | None]:
    """Record a tap on a nudge; return whether it took effect and, for a snooze, when."""
    async with context.db.write() as session:
        if action == kb.SNOOZE:
            due = await store.snooze(session, slot_id, user_id, context.clock())
            return due is not None, due
        target = store.STARTED if action == kb.START else store.SKIPPED
        moved = await store.transition(
            session, slot_id, user_id, from_status=store.SENT, to_status=target
        )
    # Start now always opens a session, even from an already handled reminder.
    return moved or action == kb.START, None


async def _start_session(update: Update, context: BandCoachContext) -> None:
    """Open the guided session through issue 3's /warmup entry point."""
    await session_handlers.warmup(update, context)
