"""Reminder scheduling maths: pure functions over aware datetimes and IANA zones.

Rules (the seeds ask for 3 sessions a week, consistently, so a nudge must land at the same
local wall time every selected day, whatever the DST calendar does):

- A slot is the user's local wall time on a selected weekday, converted to UTC.
- DST gap (the wall time does not exist that day): the slot is shifted forward by the gap,
  e.g. 02:30 on Berlin's spring-forward day becomes 03:30 CEST. Exactly one slot.
- DST fold (the wall time happens twice): the first occurrence is used. Exactly one slot.
  Both rules are what PEP 495's ``fold=0`` gives, so no special cases are needed.
- Pause: no slot at or before ``paused_until``; disabled reminders have no slot at all.
- Grace: a due slot is sent only while younger than the grace period (never less than
  ``POLL_TOLERANCE``, the lag of the polling job); an older one is skipped, and the next slot
  is computed from *now*, so downtime never causes a burst of stale reminders.
- At most one recurring reminder per local day, none after a session completed that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

# The dispatcher polls every 30 s; a slot this late is on time whatever the grace setting.
POLL_TOLERANCE = timedelta(minutes=2)
SNOOZE_DELAY = timedelta(hours=1)
PAUSE_DAYS = 7
ALL_DAYS = 0b1111111


class Action(StrEnum):
    """What the dispatcher does with a due slot."""

    SEND = "send"
    INACTIVE = "inactive"
    OFF = "off"
    PAUSED = "paused"
    STALE = "stale"
    TRAINED = "trained"
    REMINDED = "reminded"
    CHECKED_IN = "checked_in"  # a follow-up whose session got its check-in meanwhile
    SUPERSEDED = "superseded"  # a follow-up about a session that a newer one replaced
    ANSWERED = "answered"  # a next-morning question answered already
    NOT_NEEDED = "not_needed"  # a next-morning question whose check-in changed to pain 0


@dataclass(frozen=True)
class SlotContext:
    """Everything the send-or-skip rule needs about one due slot."""

    due_at: datetime
    now: datetime
    grace: timedelta
    active: bool = True
    enabled: bool = True
    paused_until: datetime | None = None
    trained_today: bool = False
    reminded_today: bool = False


def _zone(zone: str | ZoneInfo) -> ZoneInfo:
    """Return a ZoneInfo for a zone or its IANA name."""
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


def _require_aware(moment: datetime) -> None:
    """Refuse naive datetimes: every instant here is absolute."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("scheduling needs aware datetimes")


def slot_on(day: date, at: time, zone: str | ZoneInfo) -> datetime:
    """Return the UTC instant of wall time `at` on local `day` (gap: forward; fold: first)."""
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=_zone(zone))
    return local.astimezone(UTC)


def is_wall_time(instant: datetime, at: time, zone: str | ZoneInfo) -> bool:
    """Return True when `instant` reads exactly as `at` on a wall clock in `zone`."""
    local = instant.astimezone(_zone(zone))
    return (local.hour, local.minute, local.second) == (at.hour, at.minute, at.second)


# A crowded reminder slot asks the same question for thousands of members (same days, time, zone
# and moment): the calendar arithmetic is done once per distinct question.
@lru_cache(maxsize=4096)
def next_slot(days_mask: int, at: time, zone: str | ZoneInfo, after: datetime) -> datetime | None:
    """Return the first slot strictly after `after` in UTC, or None when no day is selected."""
    _require_aware(after)
    if not days_mask & ALL_DAYS:
        return None
    tz = _zone(zone)
    start = after.astimezone(tz).date() - timedelta(days=1)  # a gap may push a slot past midnight
    for offset in range(9):
        day = start + timedelta(days=offset)
        if days_mask >> day.weekday() & 1:
            slot = slot_on(day, at, tz)
            if slot > after:
                return slot
    raise AssertionError("a selected weekday occurs within any 9 days")  # pragma: no cover


def next_due(
    *,
    days_mask: int,
    at: time,
    zone: str | ZoneInfo,
    after: datetime,
    enabled: bool = True,
    paused_until: datetime | None = None,
) -> datetime | None:
    """Return the next slot to store as next_due_at, honouring the on/off switch and a pause."""
    if not enabled:
        return None
    if paused_until is not None and paused_until > after:
        after = paused_until
    return next_slot(days_mask, at, zone, after)


@lru_cache(maxsize=4096)
def local_day_bounds(instant: datetime, zone: str | ZoneInfo) -> tuple[datetime, datetime]:
    """Return the UTC [start, end) of the local calendar day that contains `instant`."""
    _require_aware(instant)
    tz = _zone(zone)
    day = instant.astimezone(tz).date()
    return slot_on(day, time(0), tz), slot_on(day + timedelta(days=1), time(0), tz)


def same_local_day(first: datetime, second: datetime, zone: str | ZoneInfo) -> bool:
    """Return True when two instants fall on the same local calendar day in `zone`."""
    tz = _zone(zone)
    return first.astimezone(tz).date() == second.astimezone(tz).date()


def trained_that_day(due_at: datetime, zone: str | ZoneInfo, ended: Iterable[datetime]) -> bool:
    """Return True when a completed session ended on the local day of `due_at`."""
    return any(same_local_day(due_at, moment, zone) for moment in ended)


def is_stale(due_at: datetime, now: datetime, grace: timedelta) -> bool:
    """Return True when a due slot is too old to send (see the grace rule above)."""
    return now - due_at >= max(grace, POLL_TOLERANCE)


def decide(ctx: SlotContext) -> Action:
    """Return whether to send a due slot, or why it is skipped, most fundamental reason first."""
    if not ctx.active:
        return Action.INACTIVE
    if not ctx.enabled:
        return Action.OFF
    if ctx.paused_until is not None and ctx.due_at <= ctx.paused_until:
        return Action.PAUSED
    if is_stale(ctx.due_at, ctx.now, ctx.grace):
        return Action.STALE
    if ctx.trained_today:
        return Action.TRAINED
    if ctx.reminded_today:
        return Action.REMINDED
    return Action.SEND


def pause_for_week(now: datetime, zone: str | ZoneInfo) -> datetime:
    """Return paused_until for 'pause a week': the start of the same weekday next week, local."""
    tz = _zone(zone)
    return slot_on(now.astimezone(tz).date() + timedelta(days=PAUSE_DAYS), time(0), tz)


def snooze_due(now: datetime) -> datetime:
    """Return when a snoozed reminder comes back, truncated to the second."""
    return (now + SNOOZE_DELAY).replace(microsecond=0)


@cache
def _finder() -> Any:
    """Return a shared TimezoneFinder (offline polygons, loaded once)."""
    from timezonefinder import TimezoneFinder

    return TimezoneFinder(in_memory=True)


def zone_at(latitude: float, longitude: float) -> str | None:
    """Return the IANA zone at a point on land, or None at sea or off the map."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    zone = _finder().timezone_at_land(lng=longitude, lat=latitude)
    return str(zone) if zone else None
