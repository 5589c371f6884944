"""/reminders settings, typed time and zone, shared locations, and taps on a nudge, as Replies."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import warmup_setup
from bot.coaching import reminder_keyboards as kb
from bot.coaching import reminder_texts as rt
from bot.coaching import texts
from bot.coaching.profile import parse_clock_time, parse_timezone
from bot.coaching.schedule import pause_for_week, zone_at
from bot.coaching.screen import Reply, Screen
from bot.coaching.states import Awaited, Awaiting
from bot.context import BotData
from bot.membership import need_start, onboarded
from storage import reminders as store
from storage import repositories as repo
from storage.models import User

ACTIONS = frozenset(
    {"menu", "done", "days", "time", "tz", "day", "at", "zone", "pw", "po", "resume"}
)
ASKED = {"time": Awaiting.REMINDER_TIME, "tz": Awaiting.REMINDER_ZONE}


def _show(screen: Screen, tapped: bool) -> Reply:
    """Edit the tapped message into `screen`, or send it for typed input."""
    return Reply(edit=screen) if tapped else Reply(send=(screen,))


async def menu(session: AsyncSession, deps: BotData, user_id: int, prefix: str = "") -> Screen:
    """Return the reminder schedule with its buttons."""
    view = await store.reminder_settings_view(session, user_id)
    assert view is not None
    user, settings = view
    now = deps.clock()
    text = rt.menu(
        days_mask=settings.days_mask, at=settings.local_time, zone=user.timezone,
        enabled=settings.enabled, paused_until=settings.paused_until,
        next_due=settings.next_due_at, now=now,
    )  # fmt: skip
    paused = settings.paused_until is not None and settings.paused_until > now
    markup = kb.menu_keyboard(enabled=settings.enabled, paused=paused)
    return Screen(f"{prefix}\n\n{text}" if prefix else text, markup)


async def command(deps: BotData, user_id: int) -> Reply:
    """Show the reminder schedule (/reminders), forgetting any half-asked question."""
    user = await onboarded(deps, user_id)
    if user is None:
        return need_start(False)
    async with deps.db.write() as session:
        await repo.set_awaiting(session, user.id, None)
        return Reply(send=(await menu(session, deps, user.id),))


async def _save(deps: BotData, user_id: int, note: str = rt.SAVED, **changes: Any) -> Screen:
    """Save reminder changes, reschedule, stop awaiting input and return the menu."""
    async with deps.db.write() as session:
        await store.update_settings(session, user_id, deps.clock(), **changes)
        await repo.set_awaiting(session, user_id, None)
        return await menu(session, deps, user_id, prefix=note)


async def _set_zone(deps: BotData, user_id: int, zone: str) -> Screen:
    """Save a new time zone and return the menu."""
    async with deps.db.write() as session:
        await store.set_timezone(session, user_id, zone, deps.clock())
        return await menu(session, deps, user_id, prefix=rt.SAVED)


async def _toggle_day(deps: BotData, user_id: int, day: int) -> Screen:
    """Toggle one weekday; refuse an empty set and offer to pause instead."""
    async with deps.db.write() as session:
        _, settings = await store.reminder_settings_view(session, user_id) or (None, None)
        assert settings is not None
        mask = settings.days_mask ^ (1 << day)
        if mask == 0:
            return Screen(rt.EMPTY_DAYS, kb.empty_days_keyboard())
        await store.update_settings(session, user_id, deps.clock(), days_mask=mask)
    warn = f"\n\n{rt.FEW_DAYS}" if bin(mask).count("1") < rt.MIN_DAYS_RECOMMENDED else ""
    return Screen(rt.ASK_DAYS + warn, kb.days_keyboard(mask))


async def _ask(deps: BotData, user: User, what: str) -> Screen:
    """Ask for days, a time or a time zone; the latter two also accept typed input."""
    awaited = Awaited(ASKED[what]).encode() if what in ASKED else None
    async with deps.db.write() as session:
        await repo.set_awaiting(session, user.id, awaited)
        _, settings = await store.reminder_settings_view(session, user.id) or (None, None)
    assert settings is not None
    if what == "days":
        return Screen(rt.ASK_DAYS, kb.days_keyboard(settings.days_mask))
    if what == "time":
        return Screen(rt.ASK_TIME, kb.time_keyboard(settings.local_time))
    return Screen(rt.ASK_ZONE, kb.zone_keyboard(user.timezone))


def _hhmm(value: str) -> time | None:
    """Return the time in compact 'HHMM' callback data, or None."""
    if len(value) != 4 or not value.isdigit():
        return None
    hour, minute = int(value[:2]), int(value[2:])
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _valid(action: str, arg: str) -> bool:
    """Return True for a /reminders button this version could have made."""
    if action == "day":
        return arg in {"0", "1", "2", "3", "4", "5", "6"}
    if action == "at":
        return _hhmm(arg) is not None
    if action == "zone":
        return parse_timezone(arg) == arg
    return action in ACTIONS


async def on_settings(deps: BotData, user_id: int, data: str) -> Reply:
    """Handle a tap in the /reminders menu (rs:…), refusing unknown or forged data."""
    tap = kb.SettingsTap.parse(data)
    user = await onboarded(deps, user_id)
    if user is None:
        return need_start(True)
    if tap is None or not _valid(tap.action, tap.arg):
        return Reply(answer=texts.UNKNOWN_BUTTON, alert=True)
    return Reply(edit=await _settings_action(deps, user, tap.action, tap.arg))


async def _settings_action(deps: BotData, user: User, action: str, arg: str) -> Screen:
    """Carry out one validated /reminders action and return what to show."""
    if action == "menu":
        async with deps.db.read() as session:
            return await menu(session, deps, user.id)
    if action == "done":
        return Screen(rt.SAVED)
    if action in {"days", "time", "tz"}:
        return await _ask(deps, user, action)
    if action == "day":
        return await _toggle_day(deps, user.id, int(arg))
    if action == "at":
        return await _save(deps, user.id, local_time=_hhmm(arg))
    if action == "zone":
        return await _set_zone(deps, user.id, arg)
    if action == "pw":
        until = pause_for_week(deps.clock(), user.timezone)
        note = rt.PAUSED_WEEK.format(until=rt.local_date(until, user.timezone))
        return await _save(deps, user.id, note, enabled=True, paused_until=until)
    if action == "po":
        return await _save(deps, user.id, rt.PAUSED_OFF, enabled=False, paused_until=None)
    return await _save(deps, user.id, rt.RESUMED, enabled=True, paused_until=None)


async def typed_time(deps: BotData, user: User, text: str) -> Reply:
    """Accept a typed reminder time, or explain and ask again."""
    at = parse_clock_time(text)
    if at is not None:
        return Reply(send=(await _save(deps, user.id, local_time=at),))
    async with deps.db.read() as session:
        _, settings = await store.reminder_settings_view(session, user.id) or (None, None)
    assert settings is not None
    bad = f"{rt.BAD_TIME.format(text=text.strip()[:32])}\n\n{rt.ASK_TIME}"
    return Reply(send=(Screen(bad, kb.time_keyboard(settings.local_time)),))


async def typed_zone(deps: BotData, user: User, text: str) -> Reply:
    """Accept a typed time zone, or explain and ask again."""
    zone = parse_timezone(text)
    if zone is not None:
        return Reply(send=(await _set_zone(deps, user.id, zone),))
    bad = f"{rt.UNKNOWN_ZONE.format(text=text.strip()[:64])}\n\n{rt.ASK_ZONE}"
    return Reply(send=(Screen(bad, kb.zone_keyboard(user.timezone)),))


async def location(deps: BotData, user_id: int, latitude: float, longitude: float) -> Reply:
    """Set the time zone from a shared location while /reminders asks for one."""
    user = await onboarded(deps, user_id)
    if user is None:
        return need_start(False)
    if user.awaiting != Awaited(Awaiting.REMINDER_ZONE).encode():
        return Reply.text(rt.NOT_WAITING_LOCATION)
    zone = zone_at(latitude, longitude)
    if zone is None:
        return Reply(send=(Screen(rt.OCEAN, kb.zone_keyboard(user.timezone)),))
    return Reply(send=(await _set_zone(deps, user.id, zone),))


async def on_nudge(deps: BotData, user_id: int, data: str) -> Reply:
    """Handle Start now / Snooze 1 h / Skip today on a reminder, checked against its slot."""
    tap = kb.NudgeTap.parse(data)
    async with deps.db.read() as session:
        slot = await store.get_slot(session, tap.slot_id) if tap is not None else None
        user = await repo.get_user(session, user_id)
    if tap is None or slot is None or user is None or slot.user_id != user.id:
        return Reply(answer=texts.UNKNOWN_BUTTON, alert=True)
    action = tap.action
    done, due = await _apply_nudge(deps, action, slot.id, user.id)
    if not done:
        return Reply(answer=rt.ALREADY_HANDLED)
    if action == kb.START:
        return await warmup_setup.open_menu(deps, user.id)
    if action == kb.SNOOZE:
        assert due is not None
        return Reply(edit=Screen(rt.SNOOZED.format(at=rt.local_clock(due, user.timezone))))
    today = rt.local_date(deps.clock(), user.timezone)
    return Reply(edit=Screen(rt.SKIPPED.format(day=today)))


async def _apply_nudge(
    deps: BotData, action: str, slot_id: int, user_id: int
) -> tuple[bool, datetime | None]:
    """Record a tap on a nudge; return whether it took effect and, for a snooze, when."""
    async with deps.db.write() as session:
        if action == kb.SNOOZE:
            due = await store.snooze(session, slot_id, user_id, deps.clock())
            return due is not None, due
        target = store.STARTED if action == kb.START else store.SKIPPED
        moved = await store.transition(session, slot_id, user_id, to_status=target)
    # Start now always opens a session, even from an already handled reminder.
    return moved or action == kb.START, None
