"""Pure choices a user makes about themselves: goal, band, reminder schedule, time zone."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

GOALS: dict[str, str] = {
    "lift": "Warm up before lifting",
    "back": "Ease low-back discomfort",
}

# Lightest to heaviest (seed 001: reps before tension; seed 003: start on yellow or green).
BANDS: tuple[str, ...] = ("yellow", "green", "blue", "black")
NO_BAND = "none"
ALL_OWNED = (1 << len(BANDS)) - 1


def owned_mask(bands: Iterable[str]) -> int:
    """Return the bit mask of the bands a member owns."""
    return sum(1 << BANDS.index(b) for b in set(bands) if b in BANDS)


def owned_bands(mask: int | None) -> frozenset[str]:
    """Return the bands in a mask; None (never asked) means every band."""
    if mask is None:
        return frozenset(BANDS)
    return frozenset(b for i, b in enumerate(BANDS) if mask >> i & 1)


BAND_LABELS: dict[str, str] = {
    "yellow": "🟡 Yellow",
    "green": "🟢 Green",
    "blue": "🔵 Blue",
    "black": "⚫ Black",
    NO_BAND: "No band yet",
}

DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DEFAULT_DAYS_MASK = 0b0010101  # Mon, Wed, Fri
DEFAULT_REMINDER_TIME = time(7, 0)


@dataclass(frozen=True)
class SchedulePreset:
    """A one-tap reminder schedule offered during onboarding."""

    key: str
    days_mask: int
    at: time | None  # None means no reminders for now

    @property
    def label(self) -> str:
        """Return the button text, e.g. 'Mon · Wed · Fri at 07:00'."""
        if self.at is None:
            return "No reminders for now"
        return f"{format_days(self.days_mask, sep=' · ')} at {self.at:%H:%M}"


SCHEDULE_PRESETS: tuple[SchedulePreset, ...] = (
    SchedulePreset("mwf07", DEFAULT_DAYS_MASK, DEFAULT_REMINDER_TIME),
    SchedulePreset("mwf12", DEFAULT_DAYS_MASK, time(12, 0)),
    SchedulePreset("mwf18", DEFAULT_DAYS_MASK, time(18, 0)),
    SchedulePreset("tts07", 0b0101010, time(7, 0)),
    SchedulePreset("tts18", 0b0101010, time(18, 0)),
    SchedulePreset("off", DEFAULT_DAYS_MASK, None),
)
PRESETS_BY_KEY: dict[str, SchedulePreset] = {p.key: p for p in SCHEDULE_PRESETS}

COMMON_TIMEZONES: tuple[str, ...] = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
)


def days_from_mask(mask: int) -> list[int]:
    """Return the weekday numbers (Monday = 0) set in a days mask."""
    return [d for d in range(7) if mask >> d & 1]


def mask_from_days(days: list[int] | tuple[int, ...] | set[int]) -> int:
    """Return the days mask for weekday numbers (Monday = 0)."""
    mask = 0
    for day in days:
        if not 0 <= day <= 6:
            raise ValueError(f"weekday out of range: {day}")
        mask |= 1 << day
    return mask


def format_days(mask: int, sep: str = ", ") -> str:
    """Return a days mask as text, e.g. 'Mon, Wed, Fri' or 'every day'."""
    days = days_from_mask(mask)
    if len(days) == 7:
        return "every day"
    if not days:
        return "no days"
    return sep.join(DAY_NAMES[d] for d in days)


@cache
def _zone_index() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Map lower-cased IANA names, and lower-cased city parts, to canonical names."""
    exact: dict[str, str] = {}
    by_city: dict[str, list[str]] = {}
    for name in available_timezones():
        exact[name.lower()] = name
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            city = name.rsplit("/", 1)[1].lower()
            by_city.setdefault(city, []).append(name)
    return exact, by_city


def parse_timezone(text: str) -> str | None:
    """Return the IANA zone a user typed ('Europe/Berlin', 'berlin', 'new york'), or None."""
    cleaned = text.strip().replace(" ", "_")
    if not cleaned or len(cleaned) > 64:
        return None
    exact, by_city = _zone_index()
    name = exact.get(cleaned.lower())
    if name is None:
        matches = by_city.get(cleaned.lower(), [])
        name = sorted(matches)[0] if len(matches) >= 1 else None
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


_CLOCK = re.compile(
    r"^(?P<h>\d{1,2})(?:[:.h](?P<m>\d{2}))?\s*(?P<ampm>am|pm|a\.m\.|p\.m\.)?$", re.IGNORECASE
)


def parse_clock_time(text: str) -> time | None:
    """Return the time in '07:30', '7:30pm', '19.00' or '7am', or None if it is not a time."""
    match = _CLOCK.match(text.strip())
    if not match:
        return None
    hour, minute = int(match["h"]), int(match["m"] or 0)
    ampm = (match["ampm"] or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    elif match["m"] is None:
        return None  # a bare number like "7" is ambiguous
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)
