"""/progress, /summary, /settings, /stats and pain alerts, through the fake Telegram."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from bot import charts
from bot.clock import ManualClock
from bot.coaching import checkin_texts as ct
from bot.coaching import coach as c
from bot.coaching import morning as m
from bot.coaching import report_texts as rt
from bot.coaching import texts
from bot.coaching.report_data import ChartData
from bot.context import BandCoachApp
from bot.fake_telegram import FakeMessage, FakeTelegram, FakeUser
from bot.reminders import dispatch_due
from storage.db import Database
from storage.models import User
from tests.conftest import HandlerErrors, quiet, running_app
from tests.flows import add_bands, check_in, finish, onboard, seed_history, sent_texts, start

COACH_ID = 777
MAX_PNG = 200_000
EIGHT_WEEKS_AGO = datetime(2026, 9, 28, 7, 0, tzinfo=UTC)  # a Monday, 8 weeks before the clock


def decoded(message: FakeMessage) -> Image.Image:
    """Return a photo message's PNG, checked to decode and to stay under 200 KB."""
    assert message.kind == "photo" and message.file_bytes is not None
    assert message.file_bytes.startswith(b"\x89PNG") and len(message.file_bytes) < MAX_PNG
    Image.open(io.BytesIO(message.file_bytes)).verify()
    return Image.open(io.BytesIO(message.file_bytes))


async def test_progress_shows_the_summary_and_a_chart_of_eight_weeks(
    user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await seed_history(app_db, user.user_id, EIGHT_WEEKS_AGO)
    await user.send("/progress")
    text, chart = user.messages()[-2:]
    assert text.text.startswith("📈 Your progress, Alex")
    # The clock is Monday 23 Nov, 06:00: the new week has no session yet, the 8 before had 3.
    assert "This week: 0 of 3 sessions ▫️▫️▫️" in text.text
    assert "🔥 Weekly streak: 8 weeks" in text.text
    assert "• Lateral walks: 10 steps each side · 🟢 Green\n• Glute bridge: 10 reps\n" in text.text
    assert "💯 Consistency: 92/100" in text.text
    assert "⚖️ Weaker side (last 10 check-ins): " in text.text
    assert "0.0 → 0.0" not in text.text and "Pain, weekly average over 4 weeks: " in text.text
    assert decoded(chart).width >= 800
    assert chart.text == rt.CHART_CAPTION
    await user.tap(rt.SUMMARY_BUTTON, chart)
    card = user.last_message()
    assert card.text == rt.SUMMARY_CAPTION.format(weeks=4)
    assert decoded(card).height >= 800


async def test_progress_before_any_session_is_a_friendly_message_not_an_empty_chart(
    user: FakeUser,
) -> None:
    await user.send("/progress")
    assert user.last_message().text == ct.NEED_START
    await onboard(user)
    for command in ("/progress", "/summary"):
        await user.send(command)
        assert user.last_message().text == rt.NO_DATA and user.last_message().kind == "text"


async def test_a_real_session_shows_on_progress(user: FakeUser) -> None:
    await onboard(user)
    await start(user, "upper")
    await finish(user)
    await check_in(user, 0)
    await user.send("/progress")
    text = user.messages()[-2].text
    assert "This week: 1 of 3 sessions ✅▫️▫️" in text
    assert "Pull-aparts: 12 reps · 🟢 Green" in text  # the climb the check-in just made
    decoded(user.last_message())


async def test_another_member_is_answered_while_a_chart_is_drawn(
    fake: FakeTelegram, user: FakeUser, app_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await onboard(user)
    await seed_history(app_db, user.user_id, EIGHT_WEEKS_AGO)
    other = fake.user(5150, first_name="Sam")
    drawing, release = threading.Event(), threading.Event()
    real = charts.render_progress

    def held(data: ChartData) -> bytes:
        """Draw the real chart once the test lets go (a loop-thread draw would stall it)."""
        drawing.set()
        assert release.wait(timeout=30), "the chart was drawn on the event loop's thread"
        return real(data)

    monkeypatch.setattr(charts, "render_progress", held)
    asking = asyncio.create_task(user.send("/progress"))
    assert await asyncio.to_thread(drawing.wait, 30)
    await other.send("/help")
    assert other.last_message().text == texts.help_text()
    assert user.last_message().kind == "text"  # the chart is not there yet
    release.set()
    await asking
    decoded(user.last_message())


@pytest.fixture
async def coach_app(
    database_url: str, fake: FakeTelegram, clock: ManualClock, handler_errors: HandlerErrors
) -> AsyncIterator[BandCoachApp]:
    """Run the app with one coach in ADMIN_USER_IDS, its polling jobs stopped."""
    async with running_app(
        database_url, fake, clock, handler_errors, admin_user_ids=(COACH_ID,)
    ) as application:
        quiet(application)
        yield application
    assert not handler_errors.errors


@pytest.fixture
async def coach(fake: FakeTelegram, coach_app: BandCoachApp) -> FakeUser:
    """Return the coach, set up and with pain alerts turned on in /settings."""
    person = fake.user(COACH_ID, first_name="Coach")
    await onboard(person)
    await person.send("/settings")
    await person.tap(c.ALERTS_OFF)
    assert person.last_answer() == c.ALERTS_NOW_ON
    assert c.ALERTS_ON in [label for row in person.buttons() for label in row]
    return person


async def test_stats_are_for_coaches_only(
    fake: FakeTelegram, coach: FakeUser, coach_app: BandCoachApp
) -> None:
    member = fake.user(31, first_name="Robin")
    await member.send("/stats")
    assert member.last_message().text == c.NOT_AVAILABLE
    await member.send("/help")
    assert "/stats" not in member.last_message().text
    await coach.send("/help")
    assert "/stats – Coach: members, activity and pain" in coach.last_message().text
    await onboard(member)
    await seed_history(coach_app.bot_data.db, member.user_id, EIGHT_WEEKS_AGO)
    async with coach_app.bot_data.db.write() as session:
        robin = await session.get(User, member.user_id)
        assert robin is not None
    await member.send("/stats")
    assert member.last_message().text == c.NOT_AVAILABLE
    await coach.send("/stats")
    report = coach.last_message().text
    assert "• Members: 2" in report
    assert "• Active in the last 7 days: 1" in report  # Robin's seeded Mon/Wed/Fri
    assert "• Active members on track for 3 a week: 100 %" in report
    assert "• Blocked the bot: 0 % (0)" in report
    assert "No pain of 6 or more" in report


async def test_pain_alerts_reach_coaches_once_and_only_when_on(
    fake: FakeTelegram, coach: FakeUser, coach_app: BandCoachApp, clock: ManualClock
) -> None:
    member = fake.user(32, first_name="Robin")
    await onboard(member)
    await start(member, "upper")
    await finish(member)
    await check_in(member, 7, "Low back", "Knees", side="Left")
    alerts = sent_texts(fake, coach, "🚨")
    assert alerts == ["🚨 Robin reported pain 7/10 after a session (low back, knees)."]
    assert not sent_texts(fake, member, "🚨")
    await member.send("/checkin")  # answered again within 12 hours: no second alert
    await check_in(member, 8, "Low back", side="Left")
    assert len(sent_texts(fake, coach, "reported pain")) == 1
    await coach.send("/stats")
    assert "• Robin: 8/10 on Mon 23 Nov" in coach.last_message().text
    # "Worse" the next morning alerts once too.
    clock.set(datetime(2026, 11, 24, 9, 1, tzinfo=UTC))
    await dispatch_due(coach_app.bot_data, clock())
    question = member.last_message()
    await member.tap(m.LABELS[m.WORSE], question)
    await member.tap(m.LABELS[m.WORSE], question)  # a double tap
    worse = sent_texts(fake, coach, "feels worse")
    assert worse == [
        "🚨 Robin's back feels worse this morning, after pain 8/10 (low back) in the last session."
    ]
    # Turned off: a new high pain reaches nobody.
    await coach.send("/settings")
    await coach.tap(c.ALERTS_ON)
    assert coach.last_answer() == c.ALERTS_NOW_OFF
    clock.advance(timedelta(days=2))
    await start(member, "upper")
    await finish(member)
    await check_in(member, 9, "Hips / glutes")
    assert len(sent_texts(fake, coach, "reported pain")) == 1


async def test_members_see_no_coach_switch_and_cannot_forge_one(
    user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await user.send("/settings")
    labels = [label for row in user.buttons() for label in row]
    assert c.ALERTS_OFF not in labels and c.ALERTS_ON not in labels
    await user.tap_data("st:alerts1", user.last_message().message_id)
    assert user.last_answer() == c.NOT_AVAILABLE
    async with app_db.read() as session:
        row = await session.get(User, user.user_id)
        assert row is not None and row.pain_alerts is False


async def test_settings_change_the_same_columns_as_onboarding(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    twin = fake.user(9090, first_name="Alex")
    await onboard(twin, "Warm up before lifting", bands=("Green", "Blue"))
    await onboard(user)  # back pain, green only
    await user.send("/settings")
    await user.tap("🎯 Goal")
    assert user.last_message().text.startswith(texts.QUESTIONS["goal"])
    await user.tap("Warm up before lifting")
    assert user.last_answer() == texts.SAVED
    assert "• Goal: Warm up before lifting" in user.last_message().text
    await add_bands(user, "Blue")
    columns = ("goal", "band", "plan_band", "bands_owned", "onboarding_step")
    async with app_db.read() as session:
        rows = [await session.get(User, uid) for uid in (twin.user_id, user.user_id)]
    assert [tuple(getattr(r, col) for col in columns) for r in rows if r] == [
        ("lift", "green", None, 0b0110, None)
    ] * 2


async def test_settings_open_reminders_export_and_delete_and_start_shows_the_menu(
    user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await seed_history(app_db, user.user_id, EIGHT_WEEKS_AGO, weeks=1)
    await user.send("/start")
    assert user.last_message().text.startswith(texts.WELCOME_BACK.format(name="Alex"))
    await user.tap("⏰ Reminders, time & zone")
    assert "📅 Days" in [label for row in user.buttons() for label in row]
    await user.send("/settings")
    await user.tap("📤 Export my data")
    assert [msg.filename for msg in user.messages()[-2:]] == [
        "band-coach-sets.csv",
        "band-coach-checkins.csv",
    ]
    await user.send("/settings")
    await user.tap("🗑 Delete my data")
    assert "3 sessions and 6 logged sets, and 3 check-ins" in user.last_message().text
    await user.tap("Keep my data")
    async with app_db.read() as session:
        assert (await session.scalars(select(User.id))).all() == [user.user_id]


async def test_the_command_menu_lists_every_command_and_stats_only_for_coaches(
    fake: FakeTelegram, coach_app: BandCoachApp
) -> None:
    published = [c["command"] for c in fake.my_commands()]
    assert published == [name for name, _ in texts.COMMANDS]
    assert {"progress", "history", "settings", "export", "deletedata", "summary"} <= set(published)
    coach_menu = [c["command"] for c in fake.my_commands({"type": "chat", "chat_id": COACH_ID})]
    assert coach_menu == [*published, "stats"]
