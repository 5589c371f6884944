"""/history, /export and /deletedata through the fake Telegram, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.coaching import coach as c
from bot.coaching import data_texts as dt
from bot.coaching import morning as m
from bot.coaching import report_texts as rt
from bot.coaching import session_texts as t
from bot.coaching import texts
from bot.coaching.checkin_texts import AREA_LABELS, NEED_START, NOTE_SAVED
from bot.coaching.profile import BAND_LABELS
from bot.coaching.report_keyboards import NEWER, OLDER
from bot.coaching.states import SlotStatus
from bot.context import BandCoachApp
from bot.fake_telegram import FakeTelegram, FakeUser
from bot.reminders import dispatch_due
from storage.db import Database
from storage.models import (
    Base,
    LiveMessage,
    PainCheckin,
    ReminderSettings,
    ReminderSlot,
    SessionSet,
    User,
    WorkoutSession,
)
from tests.conftest import HandlerErrors, running_app
from tests.flows import CAT, check_in, current, finish, onboard, rows_of, seed_history, start

NY = "America/New_York"
BERLIN = "Europe/Berlin"
MWF = "Mon · Wed · Fri at 07:00"
# A Monday 03:00 UTC: still Sunday evening in New York (23:00 EDT; 22:00 EST from 1 Nov).
FIRST = datetime(2026, 10, 26, 3, 0, tzinfo=UTC)
SEEDED = [FIRST + timedelta(weeks=w, days=d) for w in range(4) for d in (0, 2, 4)]
LOWER = CAT.routine("lower").name
NOTE = 'Knees "clicky", then fine — ça va'
SETTINGS_REMINDERS = "⏰ Reminders, time & zone"
SESSION_KEYS = ("ws", "ci", "cr", "mo", c.PAIN_ALERT, c.WORSE_ALERT)
LAST_DISPATCH = datetime(2026, 11, 27, 7, 0, 30, tzinfo=UTC)
LIVE_KEY = [col.name for col in LiveMessage.__table__.columns].index("key")


@pytest.fixture
def signup_clock(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> ManualClock:
    """Stamp sign-ups (users.created_at) from the test's clock instead of the wall clock."""
    monkeypatch.setattr("storage.repositories.utcnow", clock)
    return clock


# ---------------------------------------------------------------- helpers


def seeded_entry(n: int, at: datetime, *, green_from: int = 6) -> str:
    """Return how /history lists seeded session `n` (two sets done, pain n % 4, New York)."""
    band = BAND_LABELS["yellow" if n < green_from else "green"]
    when = at.astimezone(ZoneInfo(NY))
    return (
        f"{when:%a %d %b %Y · %H:%M} · {LOWER} (finished)\n"
        f"   ✅ 2 sets done · {band} · pain {n % 4}/10"
    )


def history_text(entries: Sequence[str], first: int, total: int) -> str:
    """Return a /history page listing `entries`, the first being session `first` of `total`."""
    head = f"🗓 Your sessions, newest first ({first}-{first + len(entries) - 1} of {total})"
    return "\n\n".join([head, *entries])


def answer_of(fake: FakeTelegram, user: FakeUser) -> tuple[str | None, bool]:
    """Return the text of the answer to the user's last tap and whether it was an alert."""
    record = fake.last_callback_answer(user.chat_id)
    assert record is not None and record.answered
    return record.text, record.show_alert


def read_csv(data: bytes | None) -> list[list[str]]:
    """Return the rows of a CSV file the bot sent, which must be UTF-8 with a BOM."""
    assert data is not None and data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def expected_set_rows(db: Database, user_id: int) -> list[list[str]]:
    """Return the sets CSV rows built from the database: every set, local to its session."""
    async with db.read() as session:
        user = await session.get(User, user_id)
        assert user is not None
        result = await session.execute(
            select(SessionSet, WorkoutSession)
            .join(WorkoutSession, SessionSet.session_id == WorkoutSession.id)
            .where(WorkoutSession.user_id == user_id)
            .order_by(SessionSet.logged_at, SessionSet.id)
        )
        pairs = result.all()
    rows = []
    for logged, workout in pairs:
        zone = workout.timezone or user.timezone
        at = logged.logged_at.astimezone(ZoneInfo(zone))
        rows.append(
            [
                at.date().isoformat(), at.time().isoformat("seconds"), zone,
                CAT.routines[workout.routine_key].name, CAT.exercises[logged.exercise_key].name,
                logged.side or "", str(logged.round_no), str(logged.target), str(logged.actual),
                logged.unit, logged.band or "", logged.outcome,
            ]
        )  # fmt: skip
    return rows


async def expected_checkin_rows(db: Database, user_id: int) -> list[list[str]]:
    """Return the check-ins CSV rows built from the database, local to each session's zone."""
    async with db.read() as session:
        user = await session.get(User, user_id)
        assert user is not None
        result = await session.execute(
            select(PainCheckin, WorkoutSession.timezone)
            .outerjoin(WorkoutSession, PainCheckin.session_id == WorkoutSession.id)
            .where(PainCheckin.user_id == user_id)
            .order_by(PainCheckin.created_at, PainCheckin.id)
        )
        pairs = result.all()
    rows = []
    for row, session_zone in pairs:
        zone = session_zone or user.timezone
        at = row.created_at.astimezone(ZoneInfo(zone))
        areas = "; ".join(AREA_LABELS[a] for a in row.areas.split(",") if a)
        rows.append(
            [
                at.date().isoformat(), at.time().isoformat("seconds"), zone, str(row.pain), areas,
                row.weaker_side or "", row.note or "", row.morning or "",
            ]
        )  # fmt: skip
    return rows


async def session_ids(db: Database, user_id: int) -> list[int]:
    """Return the ids of a member's sessions."""
    async with db.read() as session:
        result = await session.scalars(
            select(WorkoutSession.id).where(WorkoutSession.user_id == user_id)
        )
        return list(result.all())


async def leftovers(
    db: Database, user_id: int, sessions: Sequence[int], name: str
) -> list[tuple[str, list[str], dict[str, Any]]]:
    """Return every row, in every table, that is still about the member (should be none)."""
    ids = set(sessions)
    keys = {f"{prefix}{sid}" for prefix in SESSION_KEYS for sid in ids}
    found = []
    async with db.read() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings().all():
                hits = [col for col in ("user_id", "chat_id") if row.get(col) == user_id]
                if table.name == "users" and row["id"] == user_id:
                    hits.append("id")
                if table.name == "workout_sessions" and row["id"] in ids:
                    hits.append("id")
                if row.get("session_id") in ids:
                    hits.append("session_id")
                if table.name == "live_messages":
                    if name in json.dumps(row["screen"], ensure_ascii=False):
                        hits.append("screen")
                    if row["key"] in keys:
                        hits.append("key")
                if hits:
                    found.append((table.name, hits, dict(row)))
    return found


def bot_count(fake: FakeTelegram, user: FakeUser) -> int:
    """Return how many visible messages the bot has sent the user."""
    return len(fake.bot_messages(user.chat_id))


# ---------------------------------------------------------------- /history


async def test_history_pages_newest_first_in_local_dates_and_a_stale_page_shows_the_newest(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    await onboard(user, zone=NY)
    await seed_history(app_db, user.user_id, FIRST, weeks=4, zone=NY)
    entries = [seeded_entry(n, at) for n, at in enumerate(SEEDED)]
    # 03:00 UTC is the evening before in New York, in summer time and after it ends alike.
    assert entries[11].startswith("Thu 19 Nov 2026 · 22:00 · Lower-body activation (finished)")
    assert entries[0].startswith("Sun 25 Oct 2026 · 23:00 · Lower-body activation (finished)")
    await user.send("/history")
    shown = user.last_message()
    sent = bot_count(fake, user)
    assert shown.text == history_text(entries[11:6:-1], 1, 12)
    assert user.buttons() == [[OLDER]]
    await user.tap(OLDER)
    assert user.last_message().message_id == shown.message_id  # edited in place
    assert user.last_message().text == history_text(entries[6:1:-1], 6, 12)
    assert user.buttons() == [[OLDER, NEWER]]
    await user.tap(OLDER)
    assert user.last_message().text == history_text(entries[1::-1], 11, 12)
    assert user.buttons() == [[NEWER]]
    await user.tap(NEWER)
    assert user.last_message().text == history_text(entries[6:1:-1], 6, 12)
    await user.tap(NEWER)
    assert user.last_message().text == history_text(entries[11:6:-1], 1, 12)
    assert user.buttons() == [[OLDER]]
    await user.tap(OLDER)
    drawn = user.last_message()  # page 2, drawn while there were 12 sessions
    assert bot_count(fake, user) == sent

    await seed_history(
        app_db, user.user_id, datetime(2026, 11, 23, 3, 0, tzinfo=UTC), weeks=1, days=(0,), zone=NY
    )
    newest = (
        f"Sun 22 Nov 2026 · 22:00 · {LOWER} (finished)\n   ✅ 2 sets done · 🟢 Green · pain 0/10"
    )
    await user.tap(OLDER, drawn)
    assert answer_of(fake, user) == (rt.STALE_PAGE, False)
    now = fake.find_message(user.chat_id, drawn.message_id)
    assert now is not None
    assert now.text == history_text([newest, *entries[11:7:-1]], 1, 13)
    assert now.buttons == [[OLDER]]
    assert user.button_data(OLDER, now) == "rp:pg:1:13"
    await user.tap(NEWER, drawn)  # the other button of the same stale page
    assert answer_of(fake, user) == (rt.STALE_PAGE, False)
    assert fake.find_message(user.chat_id, drawn.message_id).text == now.text
    assert bot_count(fake, user) == sent


async def test_malformed_history_buttons_get_an_alert_and_change_nothing(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    await onboard(user, zone=NY)
    await seed_history(app_db, user.user_id, FIRST, weeks=4, zone=NY)
    await user.send("/history")
    shown = user.last_message()
    before = user.messages()
    for data in (
        "rp:pg:1", "rp:pg:x:12", "rp:pg:-1:12", "rp:pg:1:12:0", "rp:pg:١:12", "rp:pg:1: 12",
        "rp:pg:10001:12", "rp:pg:1234567890:12", "rp:nope", "rp:",
    ):  # fmt: skip
        await user.tap_data(data, shown.message_id)
        assert answer_of(fake, user) == (texts.UNKNOWN_BUTTON, True), data
    assert user.messages() == before


async def test_a_forged_page_past_the_end_is_answered_like_a_stale_one_in_the_same_message(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    await onboard(user, zone=NY)
    await seed_history(app_db, user.user_id, FIRST, weeks=4, zone=NY)
    entries = [seeded_entry(n, at) for n, at in enumerate(SEEDED)]
    await user.send("/history")
    shown = user.last_message()
    sent = bot_count(fake, user)
    for data in ("rp:pg:3:12", "rp:pg:7:12", "rp:pg:10000:12"):  # the right total, no such page
        await user.tap(OLDER, shown)  # page 2 on screen
        await user.tap_data(data, shown.message_id)
        assert answer_of(fake, user) == (rt.STALE_PAGE, False), data
        now = fake.find_message(user.chat_id, shown.message_id)
        assert now is not None and now.text == history_text(entries[11:6:-1], 1, 12), data
        assert now.buttons == [[OLDER]]
    assert bot_count(fake, user) == sent  # never a new message


async def test_a_member_without_sessions_hears_so_and_has_nothing_to_export(
    fake: FakeTelegram, user: FakeUser
) -> None:
    await onboard(user)
    await user.send("/history")
    assert user.last_message().text == rt.NO_SESSIONS
    assert user.last_message().buttons == []
    await user.send("/export")
    assert user.last_message().text == rt.NO_EXPORT
    assert all(msg.kind == "text" for msg in fake.bot_messages(user.chat_id))


async def test_someone_who_never_sent_start_is_asked_to_and_nothing_is_stored(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    await user.send("/history")
    assert user.last_message().text == NEED_START
    await user.send("/export")
    assert user.last_message().text == NEED_START
    await user.send("/deletedata")
    assert user.last_message().text == dt.NOTHING
    assert user.last_message().buttons == []
    await user.tap_data("rp:pg:1:12")
    assert answer_of(fake, user) == (NEED_START, True)
    await user.tap_data("dd:yes:1795000000")
    assert answer_of(fake, user) == (dt.OUTDATED, True)
    assert all(rows == [] for rows in (await rows_of(app_db, [user.user_id])).values())


# ---------------------------------------------------------------- /export


async def test_export_sends_exactly_the_logged_sets_and_check_ins_as_csv(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
    quiet_jobs: None,
) -> None:
    await onboard(user, zone=BERLIN)
    await seed_history(app_db, user.user_id, FIRST, weeks=4, zone=NY)
    await start(user, "upper")
    await user.tap(t.SKIP_LABEL)  # one set skipped
    await finish(user)
    await check_in(user, 3, "Low back", "Knees", side="Left")
    await user.send(NOTE)
    assert user.last_message().text == NOTE_SAVED
    clock.set(datetime(2026, 11, 24, 8, 0, 30, tzinfo=UTC))  # 09:00 in Berlin
    await dispatch_due(app.bot_data, clock())
    await user.tap(m.LABELS[m.USUAL])

    await user.send("/export")
    *_, note, sets_file, checkins_file = fake.bot_messages(user.chat_id)
    sets = await expected_set_rows(app_db, user.user_id)
    checkins = await expected_checkin_rows(app_db, user.user_id)
    assert len(sets) > 24 and len(checkins) == 13  # the seeded history and the real session
    assert note.text == rt.EXPORTED.format(sets=len(sets), checkins=len(checkins))
    assert (sets_file.kind, sets_file.filename) == ("document", "band-coach-sets.csv")
    assert (checkins_file.kind, checkins_file.filename) == ("document", "band-coach-checkins.csv")
    header, *rows = read_csv(sets_file.file_bytes)
    assert header == list(rt.SET_COLUMNS)
    assert rows == sets
    assert rows[0][:5] == ["2026-10-25", "23:02:00", NY, LOWER, CAT.exercise("glute_bridge").name]
    assert rows[-1][:4] == ["2026-11-23", "07:00:00", BERLIN, CAT.routine("upper").name]
    assert [r[-1] for r in rows].count("skipped") == 1
    header, *rows = read_csv(checkins_file.file_bytes)
    assert header == list(rt.CHECKIN_COLUMNS)
    assert rows == checkins
    assert rows[0][:3] == ["2026-10-25", "23:12:00", NY]
    assert rows[-1][:7] == ["2026-11-23", "07:00:00", BERLIN, "3", "Low back; Knees", "left", NOTE]
    assert rows[-1][7] != ""  # the next-morning answer
    assert rows[1][6] == "note 1, with a comma"


# ---------------------------------------------------------------- /deletedata


async def test_deletedata_deletes_every_row_about_the_member_and_nothing_of_anyone_else(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
    quiet_jobs: None,
    signup_clock: ManualClock,
) -> None:
    other = fake.user(515151, first_name="Blair")
    await onboard(other, schedule=MWF, zone=BERLIN)
    await seed_history(app_db, other.user_id, FIRST, weeks=2, zone=BERLIN)
    await start(other, "upper")
    await finish(other)
    await check_in(other, 1, "Hips")
    await onboard(user, schedule=MWF)
    await seed_history(app_db, user.user_id, FIRST, weeks=2, zone=NY)
    await start(user, "upper")
    await finish(user)
    await check_in(user, 0)  # targets go up: exercise targets, a plan and a morning question
    await user.send("/settings")
    settings_menu = user.last_message()
    await user.send("/history")
    history_page = user.last_message()
    await start(user, "upper")  # a session left running, its live message on screen
    running = user.last_message()
    assert t.DONE_LABEL in running.buttons[0]
    await app.bot_data.delivery.settle()  # every edit recorded (Database.defer): rows hold still

    mine = await rows_of(app_db, [user.user_id])
    assert [table for table, rows in mine.items() if not rows] == []
    theirs = await rows_of(app_db, [other.user_id])
    sessions = await session_ids(app_db, user.user_id)
    assert len(sessions) == 8
    async with app_db.read() as session:
        row = await session.get(User, user.user_id)
        assert row is not None
        since = row.signup_key
        reminder = await session.get(ReminderSettings, user.user_id)
        assert reminder is not None and reminder.next_due_at is not None
        assert reminder.next_due_at < LAST_DISPATCH  # a reminder is due in the days below
        morning = await session.scalar(
            select(ReminderSlot.due_at).where(
                ReminderSlot.user_id == user.user_id, ReminderSlot.status == SlotStatus.PENDING
            )
        )
        assert morning is not None and morning < LAST_DISPATCH  # and the next-morning question
    sets, checks = len(mine["session_sets"]), len(mine["pain_checkins"])

    await user.send("/deletedata")
    confirm = user.last_message()
    assert confirm.text == dt.CONFIRM.format(
        sessions="8 sessions", sets=f"{sets} logged sets", checkins=f"{checks} check-ins"
    )
    assert confirm.buttons == [[dt.DELETE], [dt.KEEP]]
    assert user.button_data(dt.DELETE, confirm) == f"dd:yes:{since}"
    assert user.button_data(dt.KEEP, confirm) == f"dd:no:{since}"
    await user.tap(dt.KEEP, confirm)
    assert fake.find_message(user.chat_id, confirm.message_id).text == dt.KEPT
    assert await rows_of(app_db, [user.user_id]) == mine
    assert await rows_of(app_db, [other.user_id]) == theirs

    await user.send("/deletedata")
    old_question = user.last_message()  # left unanswered, its buttons still there
    await user.send("/deletedata")
    question = user.last_message()
    await user.tap(dt.DELETE, question)
    assert fake.find_message(user.chat_id, question.message_id).text == dt.DELETED
    assert await leftovers(app_db, user.user_id, sessions, "Alex") == []
    assert await rows_of(app_db, [other.user_id]) == theirs

    old_taps = (
        (dt.DELETE, old_question, (dt.OUTDATED, True)),
        (dt.KEEP, old_question, (dt.OUTDATED, True)),
        (t.DONE_LABEL, running, (t.BAD_BUTTON, False)),
        (OLDER, history_page, (NEED_START, True)),
        (SETTINGS_REMINDERS, settings_menu, (texts.NEED_START, True)),
    )

    async def tap_old_buttons() -> None:
        """Tap every button from before the deletion: each gets a polite answer, nothing more."""
        sent = bot_count(fake, user)
        for label, message, answer in old_taps:
            await user.tap(label, message)
            assert answer_of(fake, user) == answer, label
        assert bot_count(fake, user) == sent

    # Old buttons before a new /start: a polite answer, and no member comes back.
    await tap_old_buttons()
    sent = bot_count(fake, user)
    assert await leftovers(app_db, user.user_id, sessions, "Alex") == []

    # No reminder and no next-morning question reaches the member any more.
    heard = bot_count(fake, other)
    for day, hour in ((23, 7), (24, 6), (24, 7), (25, 6), (25, 7), (27, 6), (27, 7)):
        clock.set(datetime(2026, 11, day, hour, 0, 30, tzinfo=UTC))  # Berlin's 07:00, then UTC's
        await dispatch_due(app.bot_data, clock())
    assert clock() == LAST_DISPATCH
    assert bot_count(fake, user) == sent
    assert bot_count(fake, other) > heard  # the dispatcher did run for the other member
    assert await leftovers(app_db, user.user_id, sessions, "Alex") == []

    # A later /start begins afresh, and the old buttons still change nothing.
    clock.advance(timedelta(hours=1))
    await user.send("/start")
    assert user.last_message().text == texts.question("goal", intro=texts.INTRO.format(name="Alex"))
    assert user.buttons() == [["Warm up before lifting"], ["Ease low-back discomfort"]]
    fresh = await rows_of(app_db, [user.user_id])
    [member] = fresh.pop("users")
    assert all(rows == [] for rows in fresh.values()), fresh
    async with app_db.read() as session:
        row = await session.get(User, user.user_id)
        assert row is not None
        assert (row.onboarding_step, row.goal, row.band, row.onboarded_at) == (
            "goal",
            None,
            None,
            None,
        )
    fresh = await rows_of(app_db, [user.user_id])
    await tap_old_buttons()
    assert await rows_of(app_db, [user.user_id]) == fresh
    assert member in fresh["users"]
    await user.tap("Ease low-back discomfort")  # onboarding carries on from the fresh start
    assert "Step 2 of 4" in user.last_message().text


async def test_an_old_yes_tapped_within_a_second_of_signing_up_again_deletes_nothing(
    fake: FakeTelegram, user: FakeUser, app_db: Database, signup_clock: ManualClock
) -> None:
    await onboard(user)
    await user.send("/deletedata")
    old_question = user.last_message()
    await user.send("/deletedata")
    await user.tap(dt.DELETE)
    signup_clock.advance(0.5)  # a quick /start, still in the same second as the first sign-up
    await user.send("/start")
    fresh = await rows_of(app_db, [user.user_id])
    assert len(fresh["users"]) == 1
    await user.tap(dt.DELETE, old_question)
    assert answer_of(fake, user) == (dt.OUTDATED, True)
    assert await rows_of(app_db, [user.user_id]) == fresh


async def test_an_old_session_button_never_acts_on_the_session_of_a_new_sign_up(
    fake: FakeTelegram, user: FakeUser, app_db: Database, clock: ManualClock
) -> None:
    await onboard(user)
    await start(user, "upper")
    old_step = user.last_message()
    await user.send("/deletedata")
    await user.tap(dt.DELETE)
    clock.advance(timedelta(hours=1))
    await onboard(user)
    await start(user, "upper")
    new_step = user.last_message()
    before = await rows_of(app_db, [user.user_id])
    await user.tap(t.DONE_LABEL, old_step)
    assert answer_of(fake, user) == (t.BAD_BUTTON, False)
    assert await rows_of(app_db, [user.user_id]) == before
    assert fake.find_message(user.chat_id, new_step.message_id).text == new_step.text


# ---------------------------------------------------------------- a coach's pain alerts


async def test_deleting_a_member_deletes_the_coach_alerts_about_them_and_keeps_the_coach(
    database_url: str, fake: FakeTelegram, clock: ManualClock, handler_errors: HandlerErrors
) -> None:
    coach = fake.user(777, first_name="Casey")
    member = fake.user(424242, first_name="Alex")
    async with running_app(
        database_url, fake, clock, handler_errors, admin_user_ids=(coach.user_id,)
    ) as application:
        assert application.job_queue is not None
        for job in application.job_queue.jobs():
            job.schedule_removal()
        db = application.bot_data.db
        await onboard(coach)
        await coach.send("/settings")
        await coach.tap(c.ALERTS_OFF)
        assert answer_of(fake, coach) == (c.ALERTS_NOW_ON, True)

        await onboard(member)
        await start(member, "upper")
        await finish(member)
        await check_in(member, 7, "Low back", side="Left")
        sid = (await current(db, member.user_id)).id
        assert coach.last_message().text == c.pain_alert("Alex", 7, ["low_back"])
        clock.set(datetime(2026, 11, 24, 9, 0, 30, tzinfo=UTC))
        await dispatch_due(application.bot_data, clock())
        await member.tap(m.LABELS[m.WORSE])
        assert coach.last_message().text == c.worse_alert("Alex", 7, ["low_back"])
        # The coach trains too, and an alert about their own session must stay.
        await start(coach, "upper")
        await finish(coach)
        await check_in(coach, 6, "Knees")
        own = (await current(db, coach.user_id)).id
        assert c.pain_alert("Casey", 6, ["knees"]) in [msg.text for msg in coach.messages()]
        await application.bot_data.delivery.settle()  # every edit recorded (Database.defer)
        before = await rows_of(db, [coach.user_id])
        keys = {row[LIVE_KEY] for row in before["live_messages"]}
        about_member = {f"{c.PAIN_ALERT}{sid}", f"{c.WORSE_ALERT}{sid}"}
        assert about_member | {f"{c.PAIN_ALERT}{own}"} <= keys

        await member.send("/deletedata")
        await member.tap(dt.DELETE)
        assert member.last_message().text == dt.DELETED
        assert await leftovers(db, member.user_id, [sid], "Alex") == []
        kept = [row for row in before["live_messages"] if row[LIVE_KEY] not in about_member]
        assert await rows_of(db, [coach.user_id]) == {**before, "live_messages": kept}
    assert handler_errors.errors == []
