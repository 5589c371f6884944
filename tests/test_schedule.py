"""Reminder scheduling maths: table-driven cases and hypothesis properties across DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.coaching.schedule import (
    POLL_TOLERANCE,
    Action,
    SlotContext,
    decide,
    is_wall_time,
    local_day_bounds,
    next_due,
    next_slot,
    pause_for_week,
    slot_on,
    trained_that_day,
)

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
MWF = 0b0010101


def utc(*args: int) -> datetime:
    """Return an aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "after", "at", "expected"),
    [
        # Plain week: Monday 06:00 UTC is 07:00 in Berlin (CET), so the Monday slot is exactly
        # then; strictly after it, the next is Wednesday.
        (BERLIN, utc(2026, 11, 23, 5, 59), time(7), utc(2026, 11, 23, 6, 0)),
        (BERLIN, utc(2026, 11, 23, 6, 0), time(7), utc(2026, 11, 25, 6, 0)),
        # Berlin spring forward, Sunday 2026-03-29: Friday before at CET, Monday after at CEST.
        (BERLIN, utc(2026, 3, 26, 12), time(7), utc(2026, 3, 27, 6, 0)),
        (BERLIN, utc(2026, 3, 27, 12), time(7), utc(2026, 3, 30, 5, 0)),
        # Berlin fall back, Sunday 2026-10-25.
        (BERLIN, utc(2026, 10, 23, 12), time(7), utc(2026, 10, 26, 6, 0)),
        # New York spring forward, Sunday 2026-03-08 (EST -5 → EDT -4).
        (NEW_YORK, utc(2026, 3, 6, 18), time(7), utc(2026, 3, 9, 11, 0)),
        (NEW_YORK, utc(2026, 3, 5, 0), time(7), utc(2026, 3, 6, 12, 0)),
        # New York fall back, Sunday 2026-11-01 (EDT → EST).
        (NEW_YORK, utc(2026, 10, 30, 18), time(7), utc(2026, 11, 2, 12, 0)),
        (NEW_YORK, utc(2026, 10, 29, 0), time(7), utc(2026, 10, 30, 11, 0)),
    ],
)
def test_next_slot_is_seven_local_on_the_next_selected_day(
    zone: ZoneInfo, after: datetime, at: time, expected: datetime
) -> None:
    slot = next_slot(MWF, at, zone, after)
    assert slot == expected
    assert slot.astimezone(zone).time() == at


@pytest.mark.parametrize(
    ("zone", "day", "at", "expected", "rule"),
    [
        # Gap: 02:30 does not exist on spring-forward day; shifted forward by the 1 h gap.
        (BERLIN, (2026, 3, 29), time(2, 30), utc(2026, 3, 29, 1, 30), "03:30 CEST"),
        (NEW_YORK, (2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 30), "03:30 EDT"),
        # Fold: 02:30 happens twice on fall-back day; the first occurrence (summer time) wins.
        (BERLIN, (2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30), "02:30 CEST"),
        (NEW_YORK, (2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30), "01:30 EDT"),
    ],
)
def test_gap_shifts_forward_and_fold_takes_the_first_occurrence(
    zone: ZoneInfo, day: tuple[int, int, int], at: time, expected: datetime, rule: str
) -> None:
    sunday = datetime(*day).date()
    slot = slot_on(sunday, at, zone)
    assert slot == expected, rule
    # Exactly one slot that Sunday when only Sunday is selected.
    start, end = local_day_bounds(slot, zone)
    first = next_slot(1 << 6, at, zone, start - timedelta(seconds=1))
    assert first == slot
    assert next_slot(1 << 6, at, zone, first) >= end


def test_empty_day_set_has_no_slot() -> None:
    assert next_slot(0, time(7), BERLIN, utc(2026, 1, 1)) is None


def test_naive_after_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_slot(MWF, time(7), BERLIN, datetime(2026, 1, 1))


def test_disabled_has_no_slot_and_pause_skips_slots_until_it_ends() -> None:
    after = utc(2026, 11, 23, 7)  # Monday 08:00 Berlin
    assert next_due(days_mask=MWF, at=time(7), zone=BERLIN, after=after, enabled=False) is None
    paused = pause_for_week(after, BERLIN)
    assert paused == utc(2026, 11, 29, 23, 0)  # next Monday 00:00 Berlin
    due = next_due(days_mask=MWF, at=time(7), zone=BERLIN, after=after, paused_until=paused)
    assert due == utc(2026, 11, 30, 6, 0)  # next Monday 07:00: one week of silence
    past_pause = utc(2026, 11, 1)
    due = next_due(days_mask=MWF, at=time(7), zone=BERLIN, after=after, paused_until=past_pause)
    assert due == utc(2026, 11, 25, 6, 0)


NOW = utc(2026, 11, 23, 6, 30)
GRACE = timedelta(minutes=60)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, Action.SEND),
        ({"due_at": NOW - timedelta(minutes=59)}, Action.SEND),
        ({"due_at": NOW - timedelta(minutes=60)}, Action.STALE),
        ({"due_at": NOW - timedelta(days=3)}, Action.STALE),
        ({"grace": timedelta(0), "due_at": NOW - POLL_TOLERANCE / 2}, Action.SEND),
        ({"grace": timedelta(0), "due_at": NOW - POLL_TOLERANCE}, Action.STALE),
        ({"active": False}, Action.INACTIVE),
        ({"enabled": False}, Action.OFF),
        ({"paused_until": NOW}, Action.PAUSED),
        ({"paused_until": NOW - timedelta(hours=1)}, Action.SEND),
        ({"trained_today": True}, Action.TRAINED),
        ({"reminded_today": True}, Action.REMINDED),
        ({"active": False, "trained_today": True}, Action.INACTIVE),
    ],
)
def test_send_or_skip_rule(changes: dict[str, object], expected: Action) -> None:
    values: dict[str, object] = {"due_at": NOW - timedelta(seconds=20), "now": NOW, "grace": GRACE}
    values.update(changes)
    assert decide(SlotContext(**values)) is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("ended", "expected"),
    [
        (utc(2026, 11, 22, 23, 30), True),  # 00:30 Monday in Berlin, same local day
        (utc(2026, 11, 22, 22, 59), False),  # 23:59 Sunday in Berlin
        (utc(2026, 11, 23, 22, 59), True),  # 23:59 Monday in Berlin
        (utc(2026, 11, 23, 23, 0), False),  # Tuesday already
    ],
)
def test_trained_that_local_day(ended: datetime, expected: bool) -> None:
    assert trained_that_day(utc(2026, 11, 23, 6), BERLIN, [ended]) is expected


def test_local_day_bounds_cover_23_and_25_hour_days() -> None:
    start, end = local_day_bounds(utc(2026, 3, 29, 12), BERLIN)
    assert end - start == timedelta(hours=23)
    start, end = local_day_bounds(utc(2026, 11, 1, 12), NEW_YORK)
    assert end - start == timedelta(hours=25)


# ---------------------------------------------------------------- properties across 2026 DST

ZONES = st.sampled_from([BERLIN, NEW_YORK])
MASKS = st.integers(min_value=1, max_value=127)
TIMES = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
# Both 2026 switches of both zones fall inside these windows.
STARTS = st.one_of(
    st.datetimes(datetime(2026, 2, 25), datetime(2026, 4, 5), timezones=st.just(UTC)),
    st.datetimes(datetime(2026, 10, 18), datetime(2026, 11, 8), timezones=st.just(UTC)),
)


def slots(mask: int, at: time, zone: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    """Return `count` consecutive slots after `after`."""
    found: list[datetime] = []
    for _ in range(count):
        nxt = next_slot(mask, at, zone, after)
        assert nxt is not None
        found.append(nxt)
        after = nxt
    return found


@settings(max_examples=150, deadline=None)
@given(zone=ZONES, mask=MASKS, at=TIMES, start=STARTS)
def test_slots_are_increasing_on_selected_days_at_wall_time(
    zone: ZoneInfo, mask: int, at: time, start: datetime
) -> None:
    found = slots(mask, at, zone, start, 10)
    assert found[0] > start
    assert all(a < b for a, b in pairwise(found))
    for slot in found:
        local = slot.astimezone(zone)
        scheduled_day = local.date() if is_wall_time(slot, at, zone) else None
        if scheduled_day is None:
            # Only a DST gap may move a slot off the wall time: forward, by the gap, same day.
            naive = datetime.combine(local.date(), at)
            assert naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).time() != at
            assert local.replace(tzinfo=None) - naive == timedelta(hours=1)
            scheduled_day = local.date()
        assert mask >> scheduled_day.weekday() & 1


@settings(max_examples=150, deadline=None)
@given(zone=ZONES, mask=MASKS, at=TIMES, start=STARTS)
def test_at_most_one_slot_per_local_day(
    zone: ZoneInfo, mask: int, at: time, start: datetime
) -> None:
    days = [slot.astimezone(zone).date() for slot in slots(mask, at, zone, start, 14)]
    assert len(days) == len(set(days))


@settings(max_examples=150, deadline=None)
@given(zone=ZONES, mask=MASKS, at=TIMES, start=STARTS, gap=st.integers(1, 60 * 24 * 9))
def test_no_selected_day_is_skipped(
    zone: ZoneInfo, mask: int, at: time, start: datetime, gap: int
) -> None:
    # Any slot found later is also reached by stepping slot to slot: nothing is jumped over.
    later = start + timedelta(minutes=gap)
    target = next_slot(mask, at, zone, later)
    assert target is not None
    stepped = start
    while stepped < target:
        stepped = next_slot(mask, at, zone, stepped)  # type: ignore[assignment]
    assert stepped == target


@settings(max_examples=100, deadline=None)
@given(zone=ZONES, mask=MASKS, at=TIMES, start=STARTS, weeks=st.integers(1, 5))
def test_same_weekly_count_as_selected_days(
    zone: ZoneInfo, mask: int, at: time, start: datetime, weeks: int
) -> None:
    found = slots(mask, at, zone, start, bin(mask).count("1") * weeks + 1)
    span = found[-1] - found[0]
    assert timedelta(weeks=weeks) - timedelta(hours=1) <= span <= timedelta(weeks=weeks, hours=1)
