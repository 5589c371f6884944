"""/reminders through the fake Telegram on both databases: days, time, zone, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, time

from bot.clock import ManualClock
from bot.coaching import reminder_texts as rt
from bot.coaching import texts
from bot.fake_telegram import FakeUser
from storage import repositories as repo
from storage.db import Database
from storage.models import ReminderSettings, User


async def onboard(user: FakeUser) -> None:
    """Onboard with Mon/Wed/Fri 07:00 in Berlin."""
    await user.send("/start")
    await user.tap("Warm up before lifting")
    await user.tap("Green")
    await user.tap("✅ Save my bands")
    await user.tap("Mon · Wed · Fri at 07:00 (recommended)")
    await user.tap("Europe/Berlin")


async def stored(db: Database, user_id: int) -> tuple[User, ReminderSettings]:
    """Return the user row and reminder settings."""
    async with db.read() as session:
        user = await repo.get_user(session, user_id)
        settings = await repo.get_reminder_settings(session, user_id)
    assert user is not None and settings is not None
    return user, settings


async def test_onboarding_schedules_the_first_reminder(
    user: FakeUser, app_db: Database, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 11, 23, 8, tzinfo=UTC))  # Monday 09:00 Berlin
    await onboard(user)
    _, settings = await stored(app_db, user.user_id)
    assert settings.next_due_at == datetime(2026, 11, 25, 6, tzinfo=UTC)


async def test_reminders_shows_the_schedule(user: FakeUser, clock: ManualClock) -> None:
    clock.set(datetime(2026, 11, 23, 8, tzinfo=UTC))
    await onboard(user)
    await user.send("/reminders")
    text = user.last_message().text or ""
    assert "Days: Mon, Wed, Fri" in text and "Time: 07:00" in text
    assert "Time zone: Europe/Berlin" in text and "Next nudge: Wed 25 Nov at 07:00" in text
    assert user.buttons()[0] == ["📅 Days", "🕖 Time"]


async def test_before_onboarding_reminders_asks_to_start(user: FakeUser) -> None:
    await user.send("/reminders")
    assert user.last_message().text == "Hi! Send /start to set up Band Coach first."


async def test_toggling_days_warns_under_three_and_refuses_an_empty_set(
    user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await user.send("/reminders")
    await user.tap("Days")
    await user.tap("✓ Wed")
    assert rt.FEW_DAYS in (user.last_message().text or "")
    await user.tap("✓ Mon")
    _, settings = await stored(app_db, user.user_id)
    assert settings.days_mask == 0b0010000  # Friday only: allowed, with the warning
    await user.tap("✓ Fri")
    assert user.last_message().text == rt.EMPTY_DAYS
    assert user.buttons() == [["⏸ Pause until I resume"], ["Keep my days"]]
    _, settings = await stored(app_db, user.user_id)
    assert settings.days_mask == 0b0010000
    await user.tap("Keep my days")
    assert ["Mon", "Tue", "Wed", "Thu"] in user.buttons()
    await user.tap("Tue")
    _, settings = await stored(app_db, user.user_id)
    assert settings.days_mask == 0b0010010


async def test_empty_day_set_offers_pause_instead(user: FakeUser, app_db: Database) -> None:
    await onboard(user)
    await user.send("/reminders")
    await user.tap("Days")
    for day in ("✓ Mon", "✓ Wed", "✓ Fri"):
        await user.tap(day)
    await user.tap("Pause until I resume")
    _, settings = await stored(app_db, user.user_id)
    assert settings.enabled is False and settings.days_mask == 0b0010000
    assert settings.next_due_at is None


async def test_bad_time_is_explained_and_asked_again(
    user: FakeUser, app_db: Database, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 11, 23, 8, tzinfo=UTC))
    await onboard(user)
    await user.send("/reminders")
    await user.tap("🕖 Time")
    await user.send("25:00")
    text = user.last_message().text or ""
    assert "“25:00” isn't a time I understand" in text and rt.ASK_TIME in text
    _, settings = await stored(app_db, user.user_id)
    assert settings.local_time == time(7)
    await user.send("7:30pm")
    assert "Time: 19:30" in (user.last_message().text or "")
    row, settings = await stored(app_db, user.user_id)
    assert settings.local_time == time(19, 30) and row.awaiting is None
    assert settings.next_due_at == datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # today 19:30
    await user.send("8:00")  # no longer awaited
    assert (user.last_message().text or "") == texts.UNKNOWN_TEXT


async def test_time_button(user: FakeUser, app_db: Database) -> None:
    await onboard(user)
    await user.send("/reminders")
    await user.tap("🕖 Time")
    await user.tap("18:00")
    _, settings = await stored(app_db, user.user_id)
    assert settings.local_time == time(18)


async def test_unknown_zone_is_explained_and_asked_again(
    user: FakeUser, app_db: Database, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 11, 23, 8, tzinfo=UTC))
    await onboard(user)
    await user.send("/reminders")
    await user.tap("Time zone")
    await user.send("Mars/Olympus_Mons")
    text = user.last_message().text or ""
    assert "couldn't find a time zone called “Mars/Olympus_Mons”" in text and rt.ASK_ZONE in text
    row, _ = await stored(app_db, user.user_id)
    assert row.timezone == "Europe/Berlin" and row.awaiting == "reminder_tz"
    await user.send("new york")
    row, settings = await stored(app_db, user.user_id)
    assert row.timezone == "America/New_York" and row.awaiting is None
    assert settings.next_due_at == datetime(2026, 11, 23, 12, tzinfo=UTC)  # 07:00 New York


async def test_location_sets_the_zone_and_the_ocean_asks_again(
    user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await user.share_location(35.68, 139.69)  # Tokyo, but nobody asked
    assert user.last_message().text == rt.NOT_WAITING_LOCATION
    await user.send("/reminders")
    await user.tap("Time zone")
    await user.share_location(40.0, -30.0)  # mid-Atlantic
    assert user.last_message().text == rt.OCEAN
    row, _ = await stored(app_db, user.user_id)
    assert row.timezone == "Europe/Berlin" and row.awaiting == "reminder_tz"
    await user.share_location(35.68, 139.69)
    row, _ = await stored(app_db, user.user_id)
    assert row.timezone == "Asia/Tokyo"


async def test_forged_settings_buttons_change_nothing(user: FakeUser, app_db: Database) -> None:
    await onboard(user)
    for data in ("rs:day:9", "rs:at:2500", "rs:zone:Mars/Base", "rs:explode"):
        await user.tap_data(data)
        assert user.last_answer() == "That button no longer works. Send /help to see what I can do."
    row, settings = await stored(app_db, user.user_id)
    assert settings.days_mask == 0b0010101 and settings.local_time == time(7)
    assert row.timezone == "Europe/Berlin"
