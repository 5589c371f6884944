"""The weekly streak, sessions this week and the consistency score, table by table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.coaching.adherence import (
    adherence,
    consistency,
    local_day,
    sessions_in_week,
    weekly_pain,
    weekly_streak,
)

MON = date(2026, 11, 2)  # a Monday


def days(*offsets: int) -> list[date]:
    """Return the days this many days after MON."""
    return [MON + timedelta(days=n) for n in offsets]


MWF_3_WEEKS = days(0, 2, 4, 7, 9, 11, 14, 16, 18)


@pytest.mark.parametrize(
    ("sessions", "today", "streak", "this_week"),
    [
        ([], MON, 0, 0),
        # Mon, Wed, Fri for three weeks: the rest days in between break nothing.
        (MWF_3_WEEKS, MON + timedelta(days=20), 3, 3),
        # The week in progress has 1 so far: the streak of the weeks before stands.
        ([*MWF_3_WEEKS, MON + timedelta(days=21)], MON + timedelta(days=23), 3, 1),
        # The next Monday with no session yet: still 3.
        (MWF_3_WEEKS, MON + timedelta(days=21), 3, 0),
        # A week with only 2 sessions ends it; the run starts again after it.
        (days(0, 2, 4, 7, 9, 14, 16, 18), MON + timedelta(days=20), 1, 3),
        # A 2-session week that is already over, and nothing since: 0.
        (days(0, 2, 4, 7, 9), MON + timedelta(days=15), 0, 0),
        # Three sessions on one day count as three (the goal is sessions, not days).
        (days(0, 0, 0), MON, 1, 3),
        # Four sessions in a week still count as one week.
        (days(0, 1, 2, 3), MON + timedelta(days=6), 1, 4),
        # Sessions after "today" (a clock skew) are ignored.
        (days(0, 2, 4, 8), MON + timedelta(days=6), 1, 3),
    ],
)
def test_weekly_streak_and_this_week(
    sessions: list[date], today: date, streak: int, this_week: int
) -> None:
    assert weekly_streak(sessions, today) == streak
    assert sessions_in_week(sessions, today) == this_week


def test_a_week_across_a_dst_change_is_counted_in_local_days() -> None:
    # Europe/Berlin springs forward on Sunday 29 March 2026. A session at 22:30 UTC that Sunday
    # is 00:30 on Monday in Berlin: it opens the next week, so the week before has 3, not 4.
    zone = "Europe/Berlin"
    at = [
        datetime(2026, 3, 23, 6, tzinfo=UTC),
        datetime(2026, 3, 25, 6, tzinfo=UTC),
        datetime(2026, 3, 27, 6, tzinfo=UTC),
        datetime(2026, 3, 29, 22, 30, tzinfo=UTC),  # Monday 30 March, 00:30 CEST
        datetime(2026, 4, 1, 5, tzinfo=UTC),
        datetime(2026, 4, 3, 5, tzinfo=UTC),
    ]
    local = [local_day(t, zone) for t in at]
    assert local[3] == date(2026, 3, 30)
    assert sessions_in_week(local, date(2026, 3, 29)) == 3
    assert weekly_streak(local, date(2026, 4, 6)) == 2
    # In UTC the Sunday session would have made the first week 4 and the second only 2.
    utc = [t.date() for t in at]
    assert weekly_streak(utc, date(2026, 4, 6)) == 0


def test_a_member_who_changes_time_zone_keeps_each_session_on_its_own_local_day() -> None:
    # Two weeks in Berlin, then a move to New York. Sunday 23:00 in New York is Monday 05:00
    # UTC: counted in the zone of the moment, it belongs to the Sunday's week.
    before = [datetime(2026, 4, d, 6, tzinfo=UTC) for d in (20, 22, 24, 27, 29)]
    after = [datetime(2026, 5, 4, 3, tzinfo=UTC), datetime(2026, 5, 6, 12, tzinfo=UTC)]
    local = [local_day(t, "Europe/Berlin") for t in before]
    local += [local_day(t, "America/New_York") for t in after]
    assert local[5] == date(2026, 5, 3)  # Sunday in New York
    assert weekly_streak(local, date(2026, 5, 10)) == 2  # week of 20 April (3), of 27 April (3)
    # Read in Berlin's zone, the same instant is a Monday and the second week has only 2.
    all_berlin = [local_day(t, "Europe/Berlin") for t in before + after]
    assert weekly_streak(all_berlin, date(2026, 5, 10)) == 0


def test_consistency_rises_with_each_session_and_rest_days_do_not_break_it() -> None:
    assert consistency([], MON) == 0
    today = MON + timedelta(days=4)
    assert (
        consistency(days(0), today)
        < consistency(days(0, 2), today)
        < consistency(days(0, 2, 4), today)
    )
    # Past the week's goal, a fourth session adds nothing: the goal is three a week.
    assert consistency(days(0, 1, 2, 4, 4), today) == consistency(days(0, 1, 2, 4), today)
    scores = [consistency(MWF_3_WEEKS, MON + timedelta(days=n)) for n in range(21)]
    assert scores == sorted(scores), "three a week keeps the score climbing, rest days too"


def test_consistency_decays_slowly_after_training_stops() -> None:
    eight_weeks = [MON + timedelta(days=7 * w + d) for w in range(8) for d in (0, 2, 4)]
    end = eight_weeks[-1]
    peak = consistency(eight_weeks, end)
    assert 85 <= peak <= 100
    week_off = consistency(eight_weeks, end + timedelta(days=7))
    month_off = consistency(eight_weeks, end + timedelta(days=30))
    assert peak > week_off > month_off > 0
    assert week_off >= peak * 0.75, "one week off costs a little, not everything"


def test_adherence_bundles_the_three_figures() -> None:
    result = adherence(MWF_3_WEEKS, MON + timedelta(days=20))
    assert (result.this_week, result.streak_weeks, result.goal) == (3, 3, 3)
    assert result.score == consistency(MWF_3_WEEKS, MON + timedelta(days=20))


def test_weekly_pain_averages_the_last_four_weeks_oldest_first() -> None:
    today = MON + timedelta(days=27)  # Sunday of the fourth week
    points = [(MON, 4), (MON + timedelta(days=2), 2), (MON + timedelta(days=15), 1)]
    points += [(MON - timedelta(days=3), 9)]  # before the four weeks: left out
    assert weekly_pain(points, today) == [3.0, None, 1.0, None]
