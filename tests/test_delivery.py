"""Delivery: what the member sees catches up with what was saved, through every failure."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.clock import ManualClock
from bot.coaching import session_texts as t
from bot.coaching import texts
from bot.coaching.screen import Chat, Screen
from bot.context import BandCoachApp
from bot.delivery import Lane
from bot.delivery.lanes import TIMER_ALLOWANCE, place
from bot.fake_telegram import FakeTelegram, FakeUser
from bot.warmups import on_tap
from storage import repositories as repo
from storage.db import Database
from tests.conftest import HandlerErrors, running_app
from tests.flows import CAT, begin, current, edits_of, logged, onboard, only_record, tick

# Every fault here runs with DEBUG logs on, and none of them may carry the token.
pytestmark = pytest.mark.usefixtures("debug_logs_without_token")


async def converge_for(app: BandCoachApp, clock: ManualClock, seconds: int) -> None:
    """Let `seconds` of app time pass, running the delivery job once a second."""
    for _ in range(seconds):
        clock.advance(1)
        await app.bot_data.delivery.converge()


async def caught_up(
    app: BandCoachApp, clock: ManualClock, user: FakeUser, message_id: int, needle: str
) -> int:
    """Run the delivery job once a second until the message shows `needle`; return seconds."""
    seconds = 0
    while not shows(user.fake, user, message_id, needle):
        assert seconds < 5, f"{needle!r} was not shown within 5 s"
        await converge_for(app, clock, 1)
        seconds += 1
    return seconds


def shows(fake: FakeTelegram, user: FakeUser, message_id: int, needle: str) -> bool:
    """Return True when the message currently shows `needle`."""
    message = fake.find_message(user.chat_id, message_id)
    return message is not None and needle in message.text


def no_apology(fake: FakeTelegram, user: FakeUser) -> bool:
    """Return True when the member was never told that something went wrong."""
    said = [m.text for m in fake.bot_messages(user.chat_id)]
    answers = [c.params.get("text") for c in fake.calls_to("answerCallbackQuery")]
    return texts.ERROR not in said and texts.ERROR[:190] not in answers


FAULTS = {
    "429": lambda fake: fake.flood("editMessageText", retry_after=3),
    "500": lambda fake: fake.server_error("editMessageText"),
    "timeout, delivered": lambda fake: fake.timeout_next("editMessageText", delivered=True),
    "timeout, lost": lambda fake: fake.timeout_next("editMessageText", delivered=False),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_failed_reply_after_done_catches_up_without_an_apology(
    fault: str,
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
    handler_errors: HandlerErrors,
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    step = user.last_message()
    sends = len(fake.calls_to("sendMessage"))
    FAULTS[fault](fake)
    await user.tap(t.DONE_LABEL)
    row = await current(app_db, user.user_id)
    assert len(await logged(app_db, row.id)) == 1 and row.position == 1
    assert handler_errors.errors == [] and no_apology(fake, user)
    assert user.last_answer() == "In-fronts / behinds: ✅ 10 reps"
    await caught_up(app, clock, user, step.message_id, "⏸ Rest")
    assert len(await logged(app_db, row.id)) == 1
    assert len(fake.calls_to("sendMessage")) == sends  # the step's own message was edited


async def test_a_ten_second_outage_after_done_is_caught_up_within_5_s(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
    handler_errors: HandlerErrors,
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    step = user.last_message()
    fake.go_offline()
    await user.tap(t.DONE_LABEL)
    await converge_for(app, clock, 10)
    assert not shows(fake, user, step.message_id, "⏸ Rest")
    fake.go_online()
    await caught_up(app, clock, user, step.message_id, "⏸ Rest")
    row = await current(app_db, user.user_id)
    assert len(await logged(app_db, row.id)) == 1
    assert handler_errors.errors == [] and no_apology(fake, user)


async def test_a_rest_that_ends_during_an_outage_shows_the_step_once_telegram_answers(
    fake: FakeTelegram, user: FakeUser, app: BandCoachApp, clock: ManualClock
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    step = user.last_message()
    await user.tap(t.DONE_LABEL)
    fake.go_offline()
    for _ in range(25):
        await tick(app, clock, 1)  # the rest runs out while nothing reaches Telegram
    assert shows(fake, user, step.message_id, "⏸ Rest")
    fake.go_online()
    await caught_up(app, clock, user, step.message_id, "step 2/3")
    assert shows(fake, user, step.message_id, "💪 Pull-aparts")


async def test_a_process_killed_between_commit_and_send_shows_the_step_after_restart(
    database_url: str,
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    step = user.last_message()
    row = await current(app_db, user.user_id)
    # The service commits the tap; the process dies before delivery sends anything.
    chat = Chat(user.user_id, user.chat_id, step.message_id)
    reply = await on_tap(app.bot_data, chat, user.button_data(t.DONE_LABEL))
    assert reply.live and shows(fake, user, step.message_id, "In-fronts / behinds")
    assert app.job_queue is not None
    app.job_queue.scheduler.pause()
    async with running_app(database_url, fake, clock, HandlerErrors()):
        # Start-up pushes what was left pending, with no tap and no wait.
        assert shows(fake, user, step.message_id, "⏸ Rest: 20 s")
    assert len(await logged(app_db, row.id)) == 1


async def test_ten_simultaneous_done_taps_log_one_set_and_show_one_next_step(
    fake: FakeTelegram, user: FakeUser, app_db: Database
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    step = user.last_message()
    done = user.button_data(t.DONE_LABEL)
    sends, edits = len(fake.calls_to("sendMessage")), len(edits_of(fake, step.message_id))
    await asyncio.gather(*(user.tap_data(done, message_id=step.message_id) for _ in range(10)))
    row = await current(app_db, user.user_id)
    assert len(await logged(app_db, row.id)) == 1
    assert len(fake.calls_to("sendMessage")) == sends
    assert [e.split("\n")[0] for e in edits_of(fake, step.message_id)[edits:]] == ["⏸ Rest: 20 s"]
    answers = [user.fake.callback_queries[q].text for q in list(fake.callback_queries)[-10:]]
    assert answers.count(t.STEP_DONE) == 9


async def tap_counted(fake: FakeTelegram, user: FakeUser, label: str, ops: list[int]) -> None:
    """Tap a button and record how many messages and edits the tap cost."""
    before = fake.message_ops(user.chat_id)
    await user.tap(label)
    ops.append(fake.message_ops(user.chat_id) - before)


@pytest.mark.parametrize("routine", list(CAT.routines))
async def test_a_guided_session_costs_at_most_one_message_or_edit_per_tap(
    routine: str, fake: FakeTelegram, user: FakeUser, app: BandCoachApp, clock: ManualClock
) -> None:
    await onboard(user)
    await user.send("/warmup")
    ops: list[int] = []
    await tap_counted(fake, user, CAT.routine(routine).name, ops)
    while user.buttons() and ["6", "7", "8", "9", "10 · worst"] not in user.buttons():
        labels = [label for row in user.buttons() for label in row]
        for wanted in (t.GO_LABEL, t.SKIP_REST_LABEL, t.DONE_LABEL):
            if wanted in labels:
                await tap_counted(fake, user, wanted, ops)
                break
        else:
            await tap_counted(fake, user, labels[0], ops)  # rounds, then the band
    assert "Warm-up complete!" in user.last_message().text
    assert sum(ops) / len(ops) <= 1.0, ops
    assert max(ops) == 1, ops


def test_a_timer_end_lets_later_replies_go_first_for_its_allowance_only() -> None:
    timer = place(Lane.TIMER, 10.0)
    assert place(Lane.REPLY, 10.0) < timer  # a tap in the same instant is answered first
    assert place(Lane.REPLY, 10.0 + TIMER_ALLOWANCE / 2) < timer
    assert timer < place(Lane.REPLY, 10.0 + TIMER_ALLOWANCE * 2)  # taps cannot hold it back
    assert timer < place(Lane.BROADCAST, 0.0) < place(Lane.TICK, 0.0)  # however long they wait


async def test_replies_overtake_a_queued_broadcast_and_ticks_are_dropped_first(
    fake: FakeTelegram, user: FakeUser, app: BandCoachApp
) -> None:
    delivery = app.bot_data.delivery
    broadcast = [
        asyncio.create_task(delivery.send_in_lane(9000 + i, Screen("nudge"), Lane.BROADCAST))
        for i in range(200)
    ]
    await asyncio.sleep(0.05)
    assert delivery.limiter.queued(Lane.BROADCAST) > 100
    assert not await delivery.limiter.acquire(Lane.TICK)  # a tick never waits in line
    await user.send("/help")
    help_at = next(i for i, c in enumerate(fake.calls) if c.params.get("chat_id") == user.chat_id
                   and c.method == "sendMessage")  # fmt: skip
    sent_before = sum(1 for c in fake.calls[:help_at] if c.method == "sendMessage")
    await asyncio.gather(*broadcast)
    assert sent_before < 100, "the reply waited behind the broadcast"
    assert sum(1 for c in fake.calls if c.method == "sendMessage" and c.ok) >= 201
    assert delivery.limiter.dropped >= 1


@pytest.mark.allow_handler_errors
async def test_a_60_s_database_outage_is_reported_once_and_its_recovery_once(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    deps = app.bot_data
    deps.settings = deps.settings.model_copy(update={"admin_user_ids": (777,)})
    healthy = deps.db
    broken = Database("sqlite+aiosqlite:////nonexistent/dir/bandcoach.sqlite3")
    assert app.job_queue is not None
    app.job_queue.scheduler.pause()
    jobs = [j for j in app.job_queue.jobs() if j.name in ("session-timers", "delivery")]
    caplog.set_level(logging.INFO)
    deps.db = broken
    deps.delivery.db = broken
    deps.delivery.pusher.db = broken
    for _ in range(60):
        clock.advance(1)
        for job in jobs:
            await job.run(app)
        await deps.delivery.settle()
    deps.db = deps.delivery.db = deps.delivery.pusher.db = healthy
    clock.advance(1)
    for job in jobs:
        await job.run(app)
    await deps.delivery.settle()
    notices = [m.text for m in fake.bot_messages(777)]
    assert len([n for n in notices if n.startswith("⚠️")]) == 1, notices
    assert len([n for n in notices if n.startswith("✅")]) == 1, notices
    assert all("SELECT" not in n.upper() and "Traceback" not in n for n in notices)
    tracebacks = [r for r in caplog.records if r.exc_info and r.name == "bot.alerts"]
    assert len(tracebacks) == 1
    recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(recovered) == 1 and recovered[0].levelno == logging.INFO
    await broken.dispose()


async def test_a_member_who_blocks_the_bot_mid_rest_is_stopped_once_and_quietly(
    fake: FakeTelegram,
    user: FakeUser,
    app: BandCoachApp,
    app_db: Database,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.DONE_LABEL)
    fake.block_user(user.chat_id)
    caplog.set_level(logging.INFO)
    for _ in range(30):
        await tick(app, clock, 1)
        await app.bot_data.delivery.converge()
    refused = [c for c in fake.calls if c.status == 403]
    assert len(refused) == 1  # the first countdown edit; nothing is tried after it
    row = await current(app_db, user.user_id)
    assert row.timer_due_at is None and row.status == "active"
    async with app_db.read() as session:
        member = await repo.get_user(session, user.user_id)
    assert member is not None and member.is_active is False
    assert only_record(caplog, "blocked the bot").levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_check_in_answer_whose_edit_fails_still_shows_the_next_question(
    fake: FakeTelegram, user: FakeUser, app: BandCoachApp, clock: ManualClock
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.tap(t.STOP_LABEL)
    summary = user.last_message()
    fake.go_offline()
    await user.tap("3")
    await converge_for(app, clock, 8)  # longer than a one-off reply's retries
    fake.go_online()
    await caught_up(app, clock, user, summary.message_id, "Where do you feel it?")
    assert no_apology(fake, user)


async def test_a_new_message_that_keeps_timing_out_is_sent_at_most_twice(
    fake: FakeTelegram, user: FakeUser, app: BandCoachApp, clock: ManualClock
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    await user.send("/warmup")
    sends = len(fake.calls_to("sendMessage"))
    # Telegram delivers every send but the bot never hears back.
    fake.timeout_next("sendMessage", delivered=True, times=10)
    await user.tap(t.RESUME)
    await converge_for(app, clock, 10)
    copies = [c for c in fake.calls_to("sendMessage")[sends:] if c.ok]
    assert len(copies) == 2  # the first try and one retry: at most one duplicate
    assert all("step 1/3" in str(c.params["text"]) for c in copies)
    # A tap on a copy takes it up again: the next steps are edits, never more copies.
    copy = user.last_message()
    for _ in range(3):
        await user.tap(t.DONE_LABEL, message=user.last_message())
        await user.tap(t.SKIP_REST_LABEL, message=user.last_message())
        await converge_for(app, clock, 2)
    assert len([c for c in fake.calls_to("sendMessage")[sends:] if c.ok]) == 2
    assert shows(fake, user, copy.message_id, "round 2/2 · step 1/3")


async def test_a_late_retry_of_the_summary_never_hides_the_check_in_question(
    fake: FakeTelegram, user: FakeUser, app: BandCoachApp, clock: ManualClock
) -> None:
    await begin(user, "upper", "✓ 2 rounds (suggested)")
    fake.timeout_next("editMessageText", delivered=True)  # the summary shows; the bot can't tell
    await user.tap(t.STOP_LABEL)
    summary = user.last_message()
    await user.tap("3")
    await converge_for(app, clock, 5)
    assert shows(fake, user, summary.message_id, "Where do you feel it?")
