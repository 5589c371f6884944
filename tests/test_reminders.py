"""Reminder nudges end to end: the real app, the fake Telegram, an injected clock, both DBs."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bench.background import database_of_members, members_due
from bot.app import build_application
from bot.clock import ManualClock
from bot.coaching.session import suggest_routine
from bot.context import BandCoachApp
from bot.fake_telegram import FakeTelegram, FakeUser, fake_request
from bot.reminders import BATCH, JOB_NAME, POLL_SECONDS, dispatch_due
from storage import reminders as store
from storage import repositories as repo
from storage.db import Database
from storage.models import ReminderSettings, ReminderSlot, WorkoutSession
from tests.conftest import HandlerErrors, make_settings, make_user, running_app

NUDGE = "Time for your warm-up"
NUDGE_AGAIN = "your warm-up again"  # a snoozed nudge
HOUR = timedelta(hours=1)


@pytest.fixture
def waits(app: BandCoachApp, clock: ManualClock) -> list[float]:
    """Stop the background polling job and make the dispatcher's waits move the clock."""
    assert app.job_queue is not None
    for job in app.job_queue.get_jobs_by_name(JOB_NAME):
        job.schedule_removal()
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        clock.advance(seconds)

    app.bot_data.sleep = fake_sleep
    return delays


async def onboard(user: FakeUser, zone: str, schedule: str = "Mon · Wed · Fri at 07:00") -> None:
    """Onboard with a schedule preset and a time zone button."""
    await user.send("/start")
    await user.tap("Warm up before lifting")
    await user.tap("Green")
    await user.tap("✅ Save my bands")
    await user.tap(schedule)
    await user.tap(zone)


def nudges(user: FakeUser) -> list[str]:
    """Return the texts of every reminder delivered to the user (later edits do not matter)."""
    return [
        str(call.params.get("text"))
        for call in user.fake.calls_to("sendMessage")
        if call.ok
        and call.params.get("chat_id") == user.chat_id
        and any(mark in str(call.params.get("text")) for mark in (NUDGE, NUDGE_AGAIN))
    ]


async def run_until(
    app: BandCoachApp, clock: ManualClock, user: FakeUser, end: datetime, step: timedelta = HOUR
) -> list[datetime]:
    """Dispatch at every step up to `end`; return the clock time at which each nudge arrived."""
    arrivals: list[datetime] = []
    while clock() < end:
        clock.advance(step)
        before = len(nudges(user))
        await dispatch_due(app.bot_data, clock())
        arrivals += [clock()] * (len(nudges(user)) - before)
    return arrivals


async def reminder_row(db: Database, user_id: int) -> ReminderSettings:
    """Return the stored reminder settings."""
    async with db.read() as session:
        row = await repo.get_reminder_settings(session, user_id)
    assert row is not None
    return row


async def slot_rows(db: Database, user_id: int) -> list[ReminderSlot]:
    """Return the user's slots in due order."""
    from sqlalchemy import select

    async with db.read() as session:
        result = await session.execute(
            select(ReminderSlot)
            .where(ReminderSlot.user_id == user_id)
            .order_by(ReminderSlot.due_at)
        )
        return list(result.scalars())


SWITCHES = [
    ("Europe/Berlin", date(2026, 3, 29)),
    ("Europe/Berlin", date(2026, 10, 25)),
    ("America/New_York", date(2026, 3, 8)),
    ("America/New_York", date(2026, 11, 1)),
]


@pytest.mark.parametrize(("zone", "switch"), SWITCHES, ids=lambda v: str(v))
async def test_mon_wed_fri_at_seven_local_across_a_dst_switch(
    app: BandCoachApp,
    clock: ManualClock,
    user: FakeUser,
    waits: list[float],
    zone: str,
    switch: date,
) -> None:
    tz = ZoneInfo(zone)
    start = datetime.combine(switch - timedelta(days=4), time(0), tzinfo=tz)  # Wednesday 00:00
    clock.set(start)
    await onboard(user, zone)
    arrivals = await run_until(app, clock, user, start + timedelta(days=10))
    local = [a.astimezone(tz) for a in arrivals]
    assert [(d.strftime("%a"), d.time()) for d in local] == [
        ("Wed", time(7)),
        ("Fri", time(7)),
        ("Mon", time(7)),
        ("Wed", time(7)),
        ("Fri", time(7)),
    ]
    # The UTC hour really changed across the switch: the same wall time, a different instant.
    assert len({a.astimezone(UTC).hour for a in arrivals}) == 2
    expected = suggest_routine(app.bot_data.catalogue, "lift", None)
    assert expected.name in nudges(user)[0] and "Green band" in nudges(user)[0]
    assert user.buttons() == [["▶️ Start now"], ["😴 Snooze 1 h", "Skip today"]]


async def test_no_reminder_after_training_earlier_that_day(
    app: BandCoachApp, app_db: Database, clock: ManualClock, user: FakeUser, waits: list[float]
) -> None:
    clock.set(datetime(2026, 11, 23, 4, tzinfo=UTC))  # Monday 05:00 in Berlin
    await onboard(user, "Europe/Berlin")
    async with app_db.write() as session:
        session.add(
            WorkoutSession(
                user_id=user.user_id,
                routine_key="lower",
                status="completed",
                started_at=clock() + timedelta(minutes=30),
                ended_at=clock() + timedelta(minutes=45),
            )
        )
    arrivals = await run_until(app, clock, user, datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert [a.astimezone(ZoneInfo("Europe/Berlin")).strftime("%a %H:%M") for a in arrivals] == [
        "Wed 07:00"
    ]
    assert [(s.status, s.detail) for s in await slot_rows(app_db, user.user_id)] == [
        ("skipped", "trained"),
        ("sent", None),
    ]


async def test_snooze_sends_exactly_one_more_an_hour_later(
    app: BandCoachApp, clock: ManualClock, user: FakeUser, waits: list[float]
) -> None:
    clock.set(datetime(2026, 11, 23, 5, 45, tzinfo=UTC))
    await onboard(user, "Europe/Berlin")
    await run_until(app, clock, user, datetime(2026, 11, 23, 6, tzinfo=UTC), timedelta(minutes=15))
    reminder = user.last_message()
    clock.advance(timedelta(minutes=5))  # tapped at 07:05 local
    await user.tap("Snooze 1 h", message=reminder)
    assert user.last_message().text == "😴 Snoozed. I'll remind you again at 08:05."
    await user.tap("Snooze 1 h", message=reminder)  # a double tap on the old keyboard
    assert user.last_answer() == "That reminder was already handled."
    arrivals = await run_until(
        app, clock, user, datetime(2026, 11, 23, 12, tzinfo=UTC), timedelta(minutes=5)
    )
    assert [a.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") for a in arrivals] == [
        "08:05"
    ]
    assert len(nudges(user)) == 2
    again = nudges(user)[1]
    assert again.startswith("⏰ Here's your warm-up again, Alex, as promised.")
    assert again.count("Alex") == 1 and "Today: " in again  # greeted once, with the targets


async def test_skip_today_sends_nothing_more_that_day(
    app: BandCoachApp, app_db: Database, clock: ManualClock, user: FakeUser, waits: list[float]
) -> None:
    clock.set(datetime(2026, 11, 23, 5, tzinfo=UTC))
    await onboard(user, "Europe/Berlin")
    await run_until(app, clock, user, datetime(2026, 11, 23, 6, tzinfo=UTC))
    reminder = user.last_message()
    await user.tap("Skip today")
    assert user.last_message().text == "👍 Skipped for today (Mon 23 Nov). See you next time!"
    await user.tap("Snooze 1 h", message=reminder)  # the keyboard as it was before the edit
    assert user.last_answer() == "That reminder was already handled."
    arrivals = await run_until(app, clock, user, datetime(2026, 11, 24, 6, tzinfo=UTC))
    assert arrivals == []
    assert [s.status for s in await slot_rows(app_db, user.user_id)] == ["skipped"]


async def test_pause_a_week_then_resume(
    app: BandCoachApp, clock: ManualClock, user: FakeUser, waits: list[float]
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    clock.set(datetime(2026, 11, 23, 8, tzinfo=UTC))  # Monday 09:00, after today's nudge time
    await onboard(user, "Europe/Berlin")
    await user.send("/reminders")
    await user.tap("Pause a week")
    assert "Paused until Mon 30 Nov" in user.last_message().text
    arrivals = await run_until(app, clock, user, datetime(2026, 12, 1, 8, tzinfo=UTC))
    assert [a.astimezone(berlin).strftime("%a %d %H:%M") for a in arrivals] == ["Mon 30 07:00"]
    await user.send("/reminders")
    await user.tap("Until I resume")
    assert "Paused until you resume" in user.last_message().text
    assert await run_until(app, clock, user, datetime(2026, 12, 8, 8, tzinfo=UTC)) == []
    await user.send("/reminders")
    await user.tap("Resume")
    assert "Reminders are on again" in user.last_message().text
    arrivals = await run_until(app, clock, user, datetime(2026, 12, 10, 8, tzinfo=UTC))
    assert [a.astimezone(berlin).strftime("%a %d %H:%M") for a in arrivals] == ["Wed 09 07:00"]


async def test_restart_sends_the_slot_missed_inside_grace_and_skips_the_older_one(
    app: BandCoachApp,
    app_db: Database,
    database_url: str,
    fake: FakeTelegram,
    clock: ManualClock,
    waits: list[float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    fresh, old = fake.user(1001, "Fresh"), fake.user(1002, "Old")
    clock.set(datetime(2026, 11, 23, 4, tzinfo=UTC))
    await onboard(fresh, "UTC")  # due 07:00 UTC
    await onboard(old, "Europe/Berlin")  # due 06:00 UTC
    # The bot is down from 05:00 to 07:30 UTC; a new process starts on the same database.
    clock.set(datetime(2026, 11, 23, 7, 30, tzinfo=UTC))
    restarted = build_application(
        make_settings(database_url), request=fake_request(fake), clock=clock
    )
    await restarted.initialize()
    try:
        stats = await dispatch_due(restarted.bot_data)
    finally:
        await restarted.shutdown()
        await restarted.bot_data.db.dispose()
    assert (stats.sent, dict(stats.skipped)) == (1, {"stale": 1})
    assert len(nudges(fresh)) == 1 and nudges(old) == []
    assert "Skipped a stale reminder for user 1002" in caplog.text
    # Nothing is sent again later, and the skipped user's next slot is Wednesday.
    assert (await dispatch_due(app.bot_data)).claimed == 0
    assert (await reminder_row(app_db, old.user_id)).next_due_at == datetime(
        2026, 11, 25, 6, tzinfo=UTC
    )


async def test_startup_runs_the_dispatcher_at_once_then_every_30_seconds(
    database_url: str, fake: FakeTelegram, clock: ManualClock, handler_errors: HandlerErrors
) -> None:
    # A reminder fell due while the bot was down: it goes out as the bot starts, not a poll
    # interval later (the wait below is only a bound; the start-up run takes milliseconds).
    await database_of_members(database_url, 1, first_id=31, due_at=clock() - timedelta(minutes=5))
    async with running_app(database_url, fake, clock, handler_errors) as app:
        await fake.wait_until(lambda: bool(fake.bot_messages(31)), timeout=POLL_SECONDS / 3)
        assert app.job_queue is not None
        (job,) = app.job_queue.get_jobs_by_name(JOB_NAME)
        assert job.job.trigger.interval == timedelta(seconds=POLL_SECONDS)
        assert job.job.misfire_grace_time is not None
        assert job.job.misfire_grace_time < POLL_SECONDS
    assert len(fake.bot_messages(31)) == 1


@pytest.fixture
async def second_app(
    database_url: str, fake: FakeTelegram, clock: ManualClock, app: BandCoachApp
) -> AsyncIterator[BandCoachApp]:
    """Yield a second bot process (its own Database pool) over the same database."""
    other = build_application(make_settings(database_url), request=fake_request(fake), clock=clock)
    await other.initialize()
    yield other
    await other.shutdown()
    await other.bot_data.db.dispose()


async def test_two_dispatchers_firing_together_send_each_slot_once(
    app: BandCoachApp,
    second_app: BandCoachApp,
    app_db: Database,
    fake: FakeTelegram,
    clock: ManualClock,
    waits: list[float],
) -> None:
    users = [fake.user(2000 + i, f"U{i}") for i in range(8)]
    async with app_db.write() as session:
        for i, member in enumerate(users):
            await repo.register_user(
                session,
                user_id=member.user_id,
                chat_id=member.chat_id,
                first_name="U",
                timezone=("Europe/Berlin", "America/New_York")[i % 2],
                first_step="goal",
            )
            await repo.save_reminder_schedule(
                session, member.user_id, days_mask=0b0010101, at=time(7), enabled=True
            )
            await store.reschedule(session, member.user_id, clock())
    totals = 0
    end = clock() + timedelta(days=7)
    while clock() < end:
        clock.advance(timedelta(minutes=30))
        a, b = await asyncio.gather(
            dispatch_due(app.bot_data, clock()), dispatch_due(second_app.bot_data, clock())
        )
        totals += a.sent + b.sent
    assert [len(nudges(member)) for member in users] == [3] * 8
    assert totals == 24
    assert len(fake.calls_to("sendMessage")) == 24


async def test_blocked_user_is_deactivated_and_start_brings_reminders_back(
    app: BandCoachApp,
    app_db: Database,
    fake: FakeTelegram,
    clock: ManualClock,
    user: FakeUser,
    waits: list[float],
) -> None:
    clock.set(datetime(2026, 11, 23, 5, tzinfo=UTC))
    await onboard(user, "Europe/Berlin")
    fake.block_user(user.chat_id)
    await run_until(app, clock, user, datetime(2026, 11, 23, 7, tzinfo=UTC))
    async with app_db.read() as session:
        row = await repo.get_user(session, user.user_id)
    assert row is not None and row.is_active is False and row.band == "green"
    assert (await reminder_row(app_db, user.user_id)).next_due_at is None
    sends = len(fake.calls_to("sendMessage"))
    await run_until(app, clock, user, datetime(2026, 11, 26, 7, tzinfo=UTC))
    assert len(fake.calls_to("sendMessage")) == sends  # no attempts while blocked
    fake.unblock_user(user.chat_id)
    await user.send("/start")
    assert "Welcome back" in user.last_message().text
    arrivals = await run_until(app, clock, user, datetime(2026, 11, 27, 7, tzinfo=UTC))
    assert [a.strftime("%a %H:%M") for a in arrivals] == ["Fri 06:00"]


async def test_429_waits_retry_after_and_resends_once(
    app: BandCoachApp,
    app_db: Database,
    fake: FakeTelegram,
    clock: ManualClock,
    user: FakeUser,
    waits: list[float],
) -> None:
    clock.set(datetime(2026, 11, 23, 5, tzinfo=UTC))
    await onboard(user, "Europe/Berlin")
    fake.flood("sendMessage", retry_after=7, chat_id=user.chat_id)
    await run_until(app, clock, user, datetime(2026, 11, 23, 6, tzinfo=UTC))
    assert waits == [7]
    assert len(nudges(user)) == 1
    statuses = [
        (c.status, NUDGE in str(c.params.get("text"))) for c in fake.calls_to("sendMessage")
    ]
    assert statuses[-2:] == [(429, True), (200, True)]
    (slot,) = await slot_rows(app_db, user.user_id)
    assert (slot.status, slot.attempts) == ("sent", 2)


async def test_second_429_and_repeated_5xx_give_up_on_that_slot_only(
    app: BandCoachApp,
    app_db: Database,
    fake: FakeTelegram,
    clock: ManualClock,
    user: FakeUser,
    waits: list[float],
) -> None:
    clock.set(datetime(2026, 11, 23, 5, tzinfo=UTC))
    await onboard(user, "Europe/Berlin")
    fake.flood("sendMessage", retry_after=3, chat_id=user.chat_id, times=2)
    await run_until(app, clock, user, datetime(2026, 11, 23, 6, tzinfo=UTC))
    fake.server_error("sendMessage", times=3)
    await run_until(app, clock, user, datetime(2026, 11, 25, 6, tzinfo=UTC))
    fake.server_error("sendMessage", times=2)
    await run_until(app, clock, user, datetime(2026, 11, 27, 6, tzinfo=UTC))
    assert waits == [3, 2.0, 4.0, 2.0, 4.0]
    assert [(s.status, s.attempts) for s in await slot_rows(app_db, user.user_id)] == [
        ("failed", 2),
        ("failed", 3),
        ("sent", 3),
    ]
    assert len(nudges(user)) == 1


async def test_start_now_opens_the_session_or_points_to_it(
    app: BandCoachApp, clock: ManualClock, user: FakeUser, waits: list[float]
) -> None:
    clock.set(datetime(2026, 11, 23, 5, tzinfo=UTC))
    await onboard(user, "Europe/Berlin")
    await run_until(app, clock, user, datetime(2026, 11, 23, 6, tzinfo=UTC))
    reminder = user.last_message()
    await user.tap("Start now")
    # /warmup's routine choice follows, with the routine the nudge named offered first.
    offered = user.buttons()[0][0]
    assert user.last_message().message_id != reminder.message_id
    assert offered.split(" ", 1)[-1] in (reminder.text or "") or offered in (reminder.text or "")


async def test_forged_or_foreign_nudge_buttons_are_refused(
    app: BandCoachApp,
    app_db: Database,
    fake: FakeTelegram,
    clock: ManualClock,
    user: FakeUser,
    waits: list[float],
) -> None:
    clock.set(datetime(2026, 11, 23, 5, tzinfo=UTC))
    await onboard(user, "Europe/Berlin")
    await run_until(app, clock, user, datetime(2026, 11, 23, 6, tzinfo=UTC))
    (slot,) = await slot_rows(app_db, user.user_id)
    stranger = fake.user(999, "Eve")
    await onboard(stranger, "UTC")
    for data in (f"rm:sk:{slot.id}", "rm:sk:99999999999999999999999", "rm:zz:1", "rm:sk:x"):
        await stranger.tap_data(data)
        assert (
            stranger.last_answer()
            == "That button no longer works. Send /help to see what I can do."
        )
    assert [s.status for s in await slot_rows(app_db, user.user_id)] == ["sent"]


async def test_a_broadcast_cut_short_by_a_stop_hands_its_unsent_nudges_back(
    app: BandCoachApp, app_db: Database, fake: FakeTelegram, clock: ManualClock, waits: list[float]
) -> None:
    crowd = range(700, 730)  # more than the sends in flight at once
    at = clock() + timedelta(minutes=1)  # not yet due for the start-up dispatch
    await members_due(app_db, len(crowd), first_id=crowd[0], due_at=at)
    held = fake.hold("sendMessage")
    broadcast = asyncio.create_task(dispatch_due(app.bot_data, at))
    await fake.wait_until(lambda: held.waiting > 0, timeout=10)
    app.bot_data.stopping = True  # as Application.stop() sets it
    held.opened.set()
    first = await broadcast
    assert 0 < first.sent < len(crowd)
    async with app_db.read() as session:
        statuses = Counter(
            await session.scalars(
                select(ReminderSlot.status).where(
                    ReminderSlot.user_id >= 700,
                    ReminderSlot.due_at == at,  # not last week's
                )
            )
        )
    assert statuses == {"sent": first.sent, "pending": len(crowd) - first.sent}
    app.bot_data.stopping = False  # the next start
    second = await dispatch_due(app.bot_data, at)
    assert first.sent + second.sent == len(crowd)
    assert [len(fake.bot_messages(i)) for i in crowd] == [1] * len(crowd)


async def slot_statuses(db: Database, due_at: datetime) -> dict[int, str]:
    """Return the status of each member's slot due at `due_at`, by member."""
    async with db.read() as session:
        rows = await session.execute(
            select(ReminderSlot.user_id, ReminderSlot.status).where(ReminderSlot.due_at == due_at)
        )
        return {user_id: status for user_id, status in rows.all()}


async def test_a_dispatch_cut_off_mid_batch_hands_back_the_batch_claimed_ahead(
    app: BandCoachApp, app_db: Database, fake: FakeTelegram, clock: ManualClock, waits: list[float]
) -> None:
    crowd = range(700, 700 + BATCH + 100)  # two batches: the second is claimed during the first
    at = clock() + timedelta(minutes=1)
    await members_due(app_db, len(crowd), first_id=crowd[0], due_at=at)
    held = fake.hold("sendMessage")
    broadcast = asyncio.create_task(dispatch_due(app.bot_data, at))
    await fake.wait_until(lambda: held.waiting > 0, timeout=10)
    for _ in range(1000):  # until the second batch is claimed too (10 s at most)
        if len(await slot_statuses(app_db, at)) == len(crowd):
            break
        await asyncio.sleep(0.01)
    broadcast.cancel()  # e.g. the job cancelled at shutdown, its first batch mid-send
    with pytest.raises(asyncio.CancelledError):
        await broadcast
    statuses = await slot_statuses(app_db, at)
    handed_back = sorted(user for user, status in statuses.items() if status == "pending")
    assert Counter(statuses.values()) == {"claimed": BATCH, "pending": 100}
    held.opened.set()
    again = await dispatch_due(app.bot_data, at)
    assert again.sent == 100
    assert [len(fake.bot_messages(user)) for user in handed_back] == [1] * 100
    assert all(len(fake.bot_messages(user)) <= 1 for user in crowd)  # sent at most once


async def test_a_nudge_tapped_before_its_outcome_is_written_keeps_the_tap(db: Database) -> None:
    await make_user(db, 9)
    now = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    async with db.write() as session:
        slot = await store.insert_slot(session, 9, store.REMINDER, now, now, status="claimed")
        assert slot is not None
        assert await store.snooze(session, slot, 9, now + timedelta(seconds=5)) is not None
    async with db.write() as session:  # the batch writes its outcomes afterwards
        await store.finish_many(session, [(slot, store.SENT, 1, None)], now)
    async with db.read() as session:
        row = await session.get(ReminderSlot, slot)
    assert row is not None and (row.status, row.attempts) == ("snoozed", 1)
