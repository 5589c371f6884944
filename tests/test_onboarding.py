"""Onboarding through the fake Telegram, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import time

import pytest
from sqlalchemy import text

from bot.coaching import texts
from bot.coaching.onboarding_keyboards import CLOSE, SET_UP_AGAIN, settings_menu
from bot.context import BandCoachApp
from bot.fake_telegram import FakeTelegram, FakeUser
from storage import repositories as repo
from storage.db import Database
from tests.conftest import HandlerErrors
from tests.flows import only_record


async def stored(db: Database, user_id: int) -> tuple[object, object]:
    """Return the stored user row and reminder settings."""
    async with db.read() as session:
        return await repo.get_user(session, user_id), await repo.get_reminder_settings(
            session, user_id
        )


def labels(user: FakeUser) -> list[str]:
    """Return every button label of the user's last keyboard."""
    return [label for row in user.buttons() for label in row]


async def onboard(user: FakeUser) -> None:
    """Go through onboarding with the recommended choices."""
    await user.send("/start")
    await user.tap("Warm up before lifting")
    await user.tap("Green")
    await user.tap("✅ Save my bands")
    await user.tap("Mon · Wed · Fri at 07:00 (recommended)")
    await user.tap("Europe/Berlin")


async def test_start_introduces_the_bot_and_asks_the_goal(user: FakeUser) -> None:
    await user.send("/start")
    msg = user.last_message()
    assert "Hi Alex! I'm Band Coach" in msg.text
    assert "Step 1 of 4" in msg.text
    assert user.buttons() == [["Warm up before lifting"], ["Ease low-back discomfort"]]


async def test_four_taps_complete_onboarding(user: FakeUser, app_db: Database) -> None:
    await onboard(user)
    final = user.last_message()
    assert "All set ✅" in final.text
    assert "Goal: Warm up before lifting" in final.text
    assert "Band: 🟢 Green" in final.text
    assert "Reminders: Mon, Wed, Fri at 07:00" in final.text
    assert "Time zone: Europe/Berlin" in final.text
    assert "not medical advice" in final.text and "sharp pain" in final.text
    assert final.reply_markup is None
    row, reminders = await stored(app_db, user.user_id)
    assert row.goal == "lift" and row.band == "green" and row.timezone == "Europe/Berlin"
    assert row.onboarding_step is None and row.onboarded_at is not None
    assert reminders.days_mask == 0b0010101 and reminders.local_time == time(7, 0)
    assert reminders.enabled is True


async def test_each_step_edits_the_same_message(user: FakeUser) -> None:
    await user.send("/start")
    first = user.last_message()
    await user.tap("Ease low-back discomfort")
    assert user.last_message().message_id == first.message_id
    assert "Step 2 of 4" in user.last_message().text
    assert ["🟡 Yellow", "🟢 Green"] in user.buttons()


async def test_every_tap_is_answered(fake: FakeTelegram, user: FakeUser) -> None:
    await onboard(user)
    assert len(fake.calls_to("answerCallbackQuery")) == 5  # goal, a band, Save, schedule, zone


async def test_typed_timezone_is_accepted(user: FakeUser, app_db: Database) -> None:
    await user.send("/start")
    await user.tap("Ease low-back discomfort")
    await user.tap("No band yet")
    await user.tap("No reminders for now")
    await user.send("new york")
    assert "All set ✅" in user.last_message().text
    row, reminders = await stored(app_db, user.user_id)
    assert row.timezone == "America/New_York" and row.band == "none" and row.goal == "back"
    assert reminders.enabled is False


async def test_unknown_timezone_is_explained_and_asked_again(
    user: FakeUser, app_db: Database
) -> None:
    await user.send("/start")
    await user.tap("Warm up before lifting")
    await user.tap("Blue")
    await user.tap("✅ Save my bands")
    await user.tap("Tue · Thu · Sat at 18:00")
    await user.send("Mars/Olympus_Mons")
    msg = user.last_message()
    assert "couldn't find a time zone called “Mars/Olympus_Mons”" in msg.text
    assert "Step 4 of 4" in msg.text
    assert user.buttons()[0] == ["UTC", "Europe/London"]
    row, _ = await stored(app_db, user.user_id)
    assert row.onboarding_step == "timezone" and row.timezone == "UTC"
    await user.send("Asia/Tokyo")
    row, reminders = await stored(app_db, user.user_id)
    assert row.timezone == "Asia/Tokyo" and row.onboarding_step is None
    assert reminders.days_mask == 0b0101010 and reminders.local_time == time(18, 0)


async def test_typed_time_sets_a_mon_wed_fri_schedule(user: FakeUser, app_db: Database) -> None:
    await user.send("/start")
    await user.tap("Warm up before lifting")
    await user.tap("Yellow")
    await user.tap("✅ Save my bands")
    await user.send("25:00")
    assert "“25:00” isn't a time I understand" in user.last_message().text
    await user.send("6:45pm")
    assert "Step 4 of 4" in user.last_message().text
    _, reminders = await stored(app_db, user.user_id)
    assert reminders.local_time == time(18, 45) and reminders.days_mask == 0b0010101


async def test_text_where_a_tap_is_expected_gets_a_pointer(
    user: FakeUser, app_db: Database
) -> None:
    await user.send("/start")
    await user.send("I want big glutes")
    msg = user.last_message()
    assert msg.text.startswith(texts.TAP_PLEASE)
    assert "Step 1 of 4" in msg.text
    assert user.buttons() == [["Warm up before lifting"], ["Ease low-back discomfort"]]
    row, _ = await stored(app_db, user.user_id)
    assert row.onboarding_step == "goal" and row.goal is None


async def test_rerunning_start_keeps_data_and_offers_changes(
    user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    await user.send("/start")
    msg = user.last_message()
    assert "Welcome back, Alex!" in msg.text and "Band: 🟢 Green" in msg.text
    assert user.buttons() == [[b.label for b in row] for row in settings_menu()]
    row, _ = await stored(app_db, user.user_id)
    assert row.band == "green" and row.onboarding_step is None
    await user.tap(CLOSE)
    assert user.last_message().text == texts.KEPT


async def test_change_settings_ticks_current_choices(user: FakeUser, app_db: Database) -> None:
    await onboard(user)
    await user.send("/start")
    await user.tap(SET_UP_AGAIN)
    assert "✓ Warm up before lifting" in labels(user)
    await user.tap("✓ Warm up before lifting")
    assert "✓ 🟢 Green" in labels(user)
    await user.tap("✓ 🟢 Green")  # untick green, tick black: only black is owned now
    await user.tap("Black")
    await user.tap("✅ Save my bands")
    assert "✓ Mon · Wed · Fri at 07:00 (recommended)" in labels(user)
    await user.tap("Mon · Wed · Fri at 18:00")
    assert "✓ Europe/Berlin" in labels(user)
    await user.tap("✓ Europe/Berlin")
    row, reminders = await stored(app_db, user.user_id)
    assert row.band == "black" and row.timezone == "Europe/Berlin"
    assert reminders.local_time == time(18, 0)


async def test_change_settings_names_each_current_value_and_keeps_a_typed_time(
    user: FakeUser, app_db: Database
) -> None:
    await user.send("/start")
    await user.tap("Warm up before lifting")
    await user.tap("Green")
    await user.tap("✅ Save my bands")
    await user.send("06:30")  # a time no preset has
    await user.send("Asia/Kolkata")  # a zone the buttons do not offer
    await user.send("/start")
    await user.tap(SET_UP_AGAIN)
    assert "Now: Warm up before lifting." in user.last_message().text
    await user.tap("✓ Warm up before lifting")
    assert "Now: 🟢 Green." in user.last_message().text
    await user.tap("✅ Save my bands")
    assert "Now: Mon, Wed, Fri at 06:30." in user.last_message().text
    assert labels(user)[0] == "✓ Keep: Mon, Wed, Fri at 06:30"
    await user.tap("✓ Keep: Mon, Wed, Fri at 06:30")
    assert "Now: Asia/Kolkata." in user.last_message().text
    assert "✓ Asia/Kolkata" in labels(user)  # not a common zone, still offered and ticked
    await user.tap("✓ Asia/Kolkata")
    row, reminders = await stored(app_db, user.user_id)
    assert (row.band, row.timezone, reminders.local_time) == ("green", "Asia/Kolkata", time(6, 30))


async def test_start_mid_onboarding_resumes_the_current_step(
    user: FakeUser, app_db: Database
) -> None:
    await user.send("/start")
    await user.tap("Warm up before lifting")
    await user.send("/start")
    msg = user.last_message()
    assert "pick up where we were" in msg.text and "Step 2 of 4" in msg.text
    row, _ = await stored(app_db, user.user_id)
    assert row.goal == "lift"


async def test_double_tap_is_saved_once(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    await user.send("/start")
    question = user.last_message()
    await user.tap("Warm up before lifting", message=question)
    await user.tap("Ease low-back discomfort", message=question)  # same old keyboard
    row, _ = await stored(app_db, user.user_id)
    assert row.goal == "lift" and row.onboarding_step == "band"
    assert user.last_answer() == texts.STALE_BUTTON


async def test_forged_button_is_refused(user: FakeUser, app_db: Database) -> None:
    await user.send("/start")
    await user.tap_data("ob:goal:become_a_bodybuilder")
    assert user.last_answer() == texts.UNKNOWN_BUTTON
    await user.tap_data("ob:timezone:Mars/Base")
    assert user.last_answer() == texts.UNKNOWN_BUTTON
    await user.tap_data("zz:whatever")
    assert user.last_answer() == texts.UNKNOWN_BUTTON
    row, _ = await stored(app_db, user.user_id)
    assert row.goal is None and row.onboarding_step == "goal"


async def test_button_before_start_asks_to_start(user: FakeUser, app_db: Database) -> None:
    await user.tap_data("ob:goal:lift")
    assert user.last_answer() == texts.NEED_START
    row, _ = await stored(app_db, user.user_id)
    assert row is None


async def test_help_lists_every_command(user: FakeUser) -> None:
    await user.send("/help")
    text = user.last_message().text
    for name, _ in texts.COMMANDS:
        assert f"/{name}" in text


async def test_commands_are_published_at_startup(fake: FakeTelegram, app: BandCoachApp) -> None:
    calls = fake.calls_to("setMyCommands")
    assert len(calls) == 1
    published = [c["command"] for c in calls[0].params["commands"]]
    assert published == [name for name, _ in texts.COMMANDS]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("/dance", "I don't know /dance"), ("hello there", texts.UNKNOWN_TEXT)],
)
async def test_unknown_input_after_onboarding_gets_a_pointer(
    user: FakeUser, text: str, expected: str
) -> None:
    await onboard(user)
    await user.send(text)
    assert expected in user.last_message().text


async def test_text_before_start_points_to_start(user: FakeUser) -> None:
    await user.send("hi")
    assert user.last_message().text == texts.NEED_START


async def test_blocked_user_is_reactivated_by_start(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    await onboard(user)
    async with app_db.write() as session:
        await repo.mark_blocked(session, user.user_id)
    row, _ = await stored(app_db, user.user_id)
    assert row.is_active is False
    await user.send("/start")
    row, _ = await stored(app_db, user.user_id)
    assert row.is_active is True and row.blocked_at is None and row.band == "green"


async def test_user_who_blocks_mid_reply_is_marked_inactive_once(
    fake: FakeTelegram,
    user: FakeUser,
    app_db: Database,
    handler_errors: HandlerErrors,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await onboard(user)
    fake.block_user(user.user_id)
    caplog.set_level(logging.INFO)
    await user.send("/help")
    await user.send("/plan")
    # Delivery sees the 403: the user is marked inactive once, and nothing is an error.
    assert handler_errors.errors == []
    row, _ = await stored(app_db, user.user_id)
    assert row.is_active is False and row.band == "green"
    assert only_record(caplog, "blocked the bot").levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_telegram_failure_after_a_saved_answer_is_retried_without_an_apology(
    fake: FakeTelegram, user: FakeUser, app_db: Database, handler_errors: HandlerErrors
) -> None:
    await user.send("/start")
    question = user.last_message()
    fake.server_error("editMessageText")
    await user.tap("Warm up before lifting")
    assert handler_errors.errors == []
    assert user.last_answer() != texts.ERROR
    row, _ = await stored(app_db, user.user_id)
    assert row.goal == "lift" and row.onboarding_step == "band"
    # The edit was retried: the same message now asks the next question.
    shown = fake.find_message(user.chat_id, question.message_id)
    assert shown is not None and "Step 2 of 4" in shown.text
    assert not any(texts.ERROR in m.text for m in fake.bot_messages(user.chat_id))


@pytest.mark.allow_handler_errors
async def test_a_failure_before_commit_apologises_and_admins_hear_without_sql(
    fake: FakeTelegram, app: BandCoachApp, user: FakeUser, app_db: Database
) -> None:
    app.bot_data.settings = app.bot_data.settings.model_copy(update={"admin_user_ids": (777,)})
    await onboard(user)
    async with app_db.write() as session:
        await session.execute(text("DROP TABLE reminder_settings"))
    await user.send("/reminders")
    await user.send("/reminders")
    # SQLite calls a missing table an OperationalError (like an outage), PostgreSQL does not.
    assert user.last_message().text in (texts.ERROR, texts.DATABASE_BUSY)
    notes = [m.text for m in fake.bot_messages(777)]
    assert len(notes) == 1, notes  # the second failure of the same kind is only counted
    assert notes[0].startswith(("⚠️ updates", "⚠️ Database problem in updates"))
    assert "Error" in notes[0]
    assert "Traceback" not in notes[0] and "SELECT" not in notes[0].upper()
