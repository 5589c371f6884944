"""What the bot says about reminders: the nudge itself and the /reminders settings."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.coaching.catalogue import Catalogue, Routine
from bot.coaching.profile import format_days
from bot.coaching.progression import Prescription, RoutinePrescription, amount
from bot.coaching.session import suggest_routine
from bot.coaching.session_texts import rounds_word
from bot.coaching.texts import band_label

MIN_DAYS_RECOMMENDED = 3  # seeds: at least 3 sessions a week, consistently

NUDGE = (
    "⏰ Time for your warm-up, {name}!\n\n"
    "Today: {routine} · {rounds} {rounds_word}{band}\n{targets}"
)
SNOOZED_NUDGE = (
    "⏰ Here's your warm-up again, {name}, as promised.\n\n"
    "Today: {routine} · {rounds} {rounds_word}{band}\n{targets}"
)
SHORT_NUDGE = "⏰ Time for your mini-band warm-up, {name}!"
SNOOZED_SHORT = "⏰ Here's your mini-band warm-up again, {name}, as promised."
SNOOZED = "😴 Snoozed. I'll remind you again at {at}."
SKIPPED = "👍 Skipped for today ({day}). See you next time!"
ALREADY_HANDLED = "That reminder was already handled."

MENU = (
    "⏰ Your reminders\n\n• Days: {days}\n• Time: {at}\n• Time zone: {zone}\n• Status: {status}"
    "{next_line}"
)
FEW_DAYS = "⚠️ Fewer than 3 days a week: the routine works best at least 3 times a week."
EMPTY_DAYS = "You can't untick every day. If you need a break, pause the reminders instead."
ASK_DAYS = "Tap days to turn them on or off:"
ASK_TIME = "What time should I nudge you? Tap one, or type it like 06:30 or 7:30pm."
BAD_TIME = "“{text}” isn't a time I understand (hours go up to 23, minutes to 59)."
ASK_ZONE = (
    "Type your time zone, like Europe/Berlin or just Berlin, or share your location "
    "(📎 → Location) and I'll work it out."
)
UNKNOWN_ZONE = "I couldn't find a time zone called “{text}”."
OCEAN = (
    "That spot looks like open sea, where I can't tell the local time zone. "
    "Please type your time zone, like Europe/Lisbon."
)
NOT_WAITING_LOCATION = "Thanks! To change your time zone from a location, send /reminders first."
PAUSED_WEEK = "⏸ Paused until {until}."
PAUSED_OFF = "⏸ Paused until you resume."
RESUMED = "▶️ Reminders are on again."
SAVED = "Saved ✓"


def targets(routine: Routine, catalogue: Catalogue, rx: RoutinePrescription | None = None) -> str:
    """Return one line per exercise of a routine with its target, e.g. 'Glute bridge: 12 reps'.

    Targets come from the user's prescription when there is one, else from the catalogue.
    """
    lines: dict[str, str] = {}
    for step in routine.steps:
        exercise = catalogue.exercise(step.exercise)
        target = rx.targets.get(exercise.key, step.target) if rx is not None else step.target
        hold = exercise.hold_at(rx.holds) if rx is not None else None
        text = amount(exercise, target, sides=True, hold=hold)
        lines.setdefault(exercise.key, f"• {exercise.name}: {text}")
    return "\n".join(lines.values())


def nudge(
    *,
    name: str,
    goal: str | None,
    band: str | None,
    catalogue: Catalogue | None,
    last_routine: str | None = None,
    snoozed: bool = False,
    prescription: Prescription | None = None,
) -> str:
    """Return the reminder message naming the routine due and the user's targets for it."""
    if catalogue is None or not catalogue.routines:
        return (SNOOZED_SHORT if snoozed else SHORT_NUDGE).format(name=name)
    routine = suggest_routine(catalogue, goal, last_routine)  # what /warmup offers first
    rx = prescription.routines.get(routine.key) if prescription is not None else None
    if rx is not None and rx.band:
        band = rx.band
    band_text = f" · {band_label(band)} band" if band and band != "none" else ""
    rounds = rx.rounds if rx is not None else routine.rounds
    body = (SNOOZED_NUDGE if snoozed else NUDGE).format(
        name=name,
        routine=routine.name,
        rounds=rounds,
        rounds_word=rounds_word(rounds),
        band=band_text,
        targets=targets(routine, catalogue, rx),
    )
    return body


def local_clock(moment: datetime, zone: str) -> str:
    """Return an instant as local HH:MM."""
    return f"{moment.astimezone(ZoneInfo(zone)):%H:%M}"


def local_date(moment: datetime, zone: str) -> str:
    """Return an instant as a short local date, e.g. 'Mon 30 Nov'."""
    return f"{moment.astimezone(ZoneInfo(zone)):%a %d %b}"


def menu(
    *,
    days_mask: int,
    at: time,
    zone: str,
    enabled: bool,
    paused_until: datetime | None,
    next_due: datetime | None,
    now: datetime,
) -> str:
    """Return the /reminders overview."""
    if not enabled:
        status = "paused until you resume"
    elif paused_until is not None and paused_until > now:
        status = f"paused until {local_date(paused_until, zone)}"
    else:
        status = "on"
    next_line = ""
    if next_due is not None:
        next_line = f"\n\nNext nudge: {local_date(next_due, zone)} at {local_clock(next_due, zone)}"
    text = MENU.format(
        days=format_days(days_mask), at=f"{at:%H:%M}", zone=zone, status=status, next_line=next_line
    )
    if 0 < bin(days_mask).count("1") < MIN_DAYS_RECOMMENDED:
        text += f"\n\n{FEW_DAYS}"
    return text
