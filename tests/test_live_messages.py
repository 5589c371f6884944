"""Live messages in storage and the pusher: versions, ownership, doubts and flood waits."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, select
from telegram import Bot

from bot.clock import ManualClock
from bot.delivery.lanes import Lane, LaneLimiter
from bot.delivery.pusher import Pusher
from bot.fake_telegram import FakeTelegram, fake_request
from storage import live_messages as live
from storage.db import Database
from storage.models import LiveMessage
from tests.conftest import FAKE_TOKEN, make_user


def screen(text: str) -> dict[str, Any]:
    """Return a screen as stored."""
    return {"text": text, "buttons": []}


async def write(db: Database, clock: ManualClock, text: str, **where: Any) -> live.Pending:
    """Write a screen for member 1's live message and return the row as written."""
    async with db.write() as session:
        written = await live.put(
            session, user_id=1, chat_id=1, key="ws1", screen=screen(text), lane=Lane.REPLY,
            now=clock(), **where,
        )  # fmt: skip
    assert written is not None
    return written


async def put(db: Database, clock: ManualClock, text: str, **where: Any) -> int:
    """Write a screen for member 1's live message and return its id."""
    return (await write(db, clock, text, **where)).id


async def stored(db: Database, row_id: int) -> LiveMessage:
    """Return a live message row."""
    async with db.read() as session:
        row = await session.get(LiveMessage, row_id, populate_existing=True)
    assert row is not None
    return row


async def pending(db: Database, row_id: int) -> live.Pending:
    """Return what a pusher would push for a row."""
    async with db.read() as session:
        [row] = await live.pending(session, [row_id])
    return row


@pytest.fixture
async def member(db: Database) -> None:
    """Add member 1."""
    await make_user(db)


@pytest.fixture
async def bot(fake: FakeTelegram) -> Any:
    """Yield a real PTB Bot talking to the fake Telegram."""
    fake.register_user({"id": 1, "first_name": "Sam"})
    async with Bot(FAKE_TOKEN, request=fake_request(fake)) as real:
        yield real


@pytest.mark.usefixtures("member")
async def test_a_send_that_may_have_arrived_counts_even_if_a_newer_screen_came(
    db: Database, clock: ManualClock
) -> None:
    row_id = await put(db, clock, "start", new_message=True)
    in_flight = await pending(db, row_id)
    await put(db, clock, "tick")  # a countdown tick lands while the send is in flight
    async with db.write() as session:
        await live.retry_at(session, row_id, in_flight.version, None, unsure=True)
    assert (await stored(db, row_id)).unsure_sends == 1


@pytest.mark.usefixtures("member")
async def test_a_late_confirm_never_pulls_the_row_back_into_a_message_it_left(
    db: Database, clock: ManualClock
) -> None:
    row_id = await put(db, clock, "question 1", message_id=10)
    old = await pending(db, row_id)
    await put(db, clock, "question 2", message_id=11)  # the member tapped another message
    async with db.write() as session:
        await live.confirm(session, row_id, old.version, 10, clock())
    row = await stored(db, row_id)
    assert row.message_id == 11 and row.due_at is not None  # question 2 still goes to 11


@pytest.mark.usefixtures("member")
@pytest.mark.parametrize(
    ("landed", "pushed_again"),
    [((1, 2), False), ((2, 1), True)],
    ids=["in order", "the older one last"],
)
async def test_a_batch_of_confirms_records_the_edit_that_landed_last(
    db: Database, clock: ManualClock, landed: tuple[int, int], pushed_again: bool
) -> None:
    row_id = await put(db, clock, "rest 20", message_id=10)
    await put(db, clock, "rest 15")
    async with db.write() as session:
        await live.confirm_many(
            session, [live.Confirmed(row_id, version, 10, clock()) for version in landed]
        )
    row = await stored(db, row_id)
    assert row.shown_version == landed[-1]  # what Telegram shows now
    assert (row.due_at is not None) is pushed_again  # rest 15 goes on top again


@pytest.mark.usefixtures("member")
async def test_a_late_confirm_does_not_revive_pushes_to_a_chat_that_blocked_the_bot(
    db: Database, clock: ManualClock
) -> None:
    row_id = await put(db, clock, "rest 20", message_id=10)
    await put(db, clock, "rest 15")  # the tick whose edit Telegram refused
    async with db.write() as session:
        await live.drop_chat(session, 1)
        await live.confirm(session, row_id, 1, 10, clock())  # rest 20's record comes late
    row = await stored(db, row_id)
    assert (row.shown_version, row.due_at) == (1, None)


def record(statements: list[str]) -> Any:
    """Return an engine listener that keeps each statement run, BEGIN and COMMIT aside."""

    def listener(*args: Any) -> None:
        if args[2].split()[0] not in ("BEGIN", "COMMIT"):
            statements.append(args[2])

    return listener


async def seen(db: Database, row_id: int) -> live.Seen:
    """Return a live message's row as a put reads it earlier in its transaction."""
    async with db.read() as session:
        found = await session.execute(select(*live.SEEN_COLUMNS).where(LiveMessage.id == row_id))
    return live.Seen(*found.one())


@pytest.mark.usefixtures("member")
async def test_a_put_over_the_row_as_seen_writes_it_in_one_statement(
    db: Database, clock: ManualClock
) -> None:
    row_id = await put(db, clock, "rest 20", message_id=10)
    before = await seen(db, row_id)
    statements: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", record(statements))
    written = await write(db, clock, "step 2", seen=before)
    assert written is not None and (written.version, written.message_id) == (2, 10)
    assert [s.split()[0] for s in statements] == ["UPDATE"]  # not read again
    row = await stored(db, row_id)
    assert (row.screen["text"], row.version, row.message_id) == ("step 2", 2, 10)


@pytest.mark.usefixtures("member")
async def test_a_put_over_a_row_changed_since_it_was_seen_reads_it_again(
    db: Database, clock: ManualClock
) -> None:
    row_id = await put(db, clock, "step 1", new_message=True)
    before = await seen(db, row_id)  # no message yet: the send is in flight
    async with db.write() as session:  # the send lands and is recorded meanwhile
        await live.confirm(session, row_id, 1, 500, clock())
    written = await write(db, clock, "step 2", seen=before)
    # Edited into the message sent, not sent as a second message.
    assert written is not None and (written.version, written.message_id) == (2, 500)
    row = await stored(db, row_id)
    assert (row.screen["text"], row.message_id) == ("step 2", 500)


@pytest.mark.usefixtures("member")
async def test_a_late_confirm_leaves_a_send_claimed_by_another_process_alone(
    db: Database, clock: ManualClock
) -> None:
    row_id = await put(db, clock, "rest 20", message_id=10)
    await put(db, clock, "8 logged", new_message=True)  # the next screen goes below
    async with db.write() as session:
        assert await live.claim_send(session, row_id, 2, "process-b", clock())
    async with db.write() as session:  # process A's edit of "rest 20" is recorded late
        await live.confirm(session, row_id, 1, 10, clock())
    async with db.write() as session:  # B is still sending: nobody else may
        assert not await live.claim_send(session, row_id, 2, "process-c", clock())


@pytest.mark.usefixtures("member")
async def test_only_one_process_may_send_a_new_message(db: Database, clock: ManualClock) -> None:
    row_id = await put(db, clock, "step", new_message=True)
    version = (await pending(db, row_id)).version
    async with db.write() as session:
        assert await live.claim_send(session, row_id, version, "process-a", clock())
    async with db.write() as session:
        assert not await live.claim_send(session, row_id, version, "process-b", clock())
    clock.advance(live.LEASE)  # process A died mid-send: its claim runs out
    async with db.write() as session:
        assert await live.claim_send(session, row_id, version, "process-b", clock())


@pytest.mark.usefixtures("member")
async def test_a_claim_of_a_process_killed_mid_send_runs_out_whatever_is_written_later(
    db: Database, clock: ManualClock
) -> None:
    row_id = await put(db, clock, "resumed step", new_message=True)
    async with db.write() as session:  # process A claims the send, then is killed
        assert await live.claim_send(session, row_id, 1, "process-a", clock())
    for tick in range(4):  # countdown ticks keep writing newer screens
        clock.advance(5)
        version = (await pending(db, await put(db, clock, f"rest {tick}"))).version
    async with db.write() as session:
        assert await live.claim_send(session, row_id, version, "process-b", clock())


@pytest.mark.usefixtures("member")
async def test_a_429_holds_every_push_to_that_chat_until_retry_after(
    db: Database, clock: ManualClock, fake: FakeTelegram, bot: Bot
) -> None:
    pusher = Pusher(bot, db, clock, LaneLimiter(1000))
    await pusher.push(await write(db, clock, "rest 20 s", new_message=True))
    fake.flood("editMessageText", retry_after=30)
    for text in ("rest 15 s", "rest 10 s", "rest 5 s"):
        await pusher.push(await write(db, clock, text))
        clock.advance(5)
    assert len(fake.calls_to("editMessageText")) == 1  # the 429, and nothing during the wait
    clock.advance(15)
    await pusher.push(await write(db, clock, "next step"))
    assert fake.calls_to("editMessageText")[-1].ok
    assert fake.calls_to("editMessageText")[-1].params["text"] == "next step"


@pytest.mark.usefixtures("member")
async def test_a_late_push_of_an_older_screen_never_shows_it_again(
    db: Database, clock: ManualClock, fake: FakeTelegram, bot: Bot
) -> None:
    pusher = Pusher(bot, db, clock, LaneLimiter(1000))
    await pusher.push(await write(db, clock, "step 1", new_message=True))
    older = await write(db, clock, "rest")  # tap A commits first…
    await pusher.push(await write(db, clock, "step 2"))  # …tap B commits and pushes first
    await pusher.push(older)  # A's push comes late: the row is read back, nothing is shown
    assert [c.params["text"] for c in fake.calls_to("editMessageText")] == ["step 2"]
    await db.flush_deferred()  # an edit's record is written a moment later (Database.defer)
    row = await stored(db, older.id)
    assert row.shown_version == row.version and row.due_at is None


async def test_put_many_writes_like_put_for_each(
    db: Database, clock: ManualClock, member: None
) -> None:
    await make_user(db, 2)
    first = await put(db, clock, "rest 20")
    async with db.write() as session:
        await live.confirm(session, first, 1, 500, clock())
    shown_key = await write(db, clock, "as shown")  # ws1 again: now waiting to be pushed
    puts = [
        live.Put(1, 1, "ws1", screen("step 2"), Lane.TIMER),  # a newer screen for a pending row
        live.Put(2, 2, "ws9", screen("new"), Lane.TIMER),  # no row yet: made as put makes it
    ]
    async with db.write() as session:
        written = await live.put_many(session, puts, clock())
    assert [(w.chat_id, w.screen["text"], w.message_id) for w in written] == [
        (1, "step 2", 500),
        (2, "new", None),
    ]
    assert written[0].version == shown_key.version + 1
    again = await stored(db, first)
    assert (again.screen["text"], again.version, again.message_id) == ("step 2", 3, 500)
    async with db.write() as session:  # the same screens again: nothing left to push
        assert await live.put_many(session, puts, clock()) == []
