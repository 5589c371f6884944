"""Live messages: the screens delivery must bring Telegram up to date with.

A service writes the screen a message should show in the same transaction as the change it
shows, so the two can never disagree. Delivery then sends or edits, and records what Telegram
confirmed. Rows whose screen is not confirmed yet carry `due_at`; a pusher takes them once it
is due, after leasing them (moving `due_at` ahead) so two processes do not push the same row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    func,
    not_,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from storage.db import dialect_insert, for_dialect, run
from storage.models import LiveMessage

# The process that wrote a screen pushes it at once; others wait this long before taking over
# (longer than one Bot API call can take, PTB's timeouts and a wait in the lanes included).
LEASE = timedelta(seconds=20)
# A new message that timed out twice may have been delivered twice: send no more copies.
UNSURE_LIMIT = 2
# How long a claim to send a new message holds (longer than one send can take). A process killed
# mid-send holds its claim no longer than this: new screens written meanwhile do not extend it.
CLAIM = timedelta(seconds=15)


@dataclass(frozen=True)
class Pending:
    """A live message whose newest screen has not been confirmed by Telegram."""

    id: int
    user_id: int
    chat_id: int
    message_id: int | None
    screen: dict[str, Any]
    version: int
    lane: int
    attempts: int
    unsure_sends: int


async def put(
    session: AsyncSession,
    *,
    user_id: int,
    chat_id: int,
    key: str,
    screen: dict[str, Any],
    lane: int,
    now: datetime,
    message_id: int | None = None,
    adopt: int | None = None,
    new_message: bool = False,
    once: bool = False,
    seen: Seen | None = None,
) -> Pending | None:
    """Set the screen a live message should show; return it if anything is left to push.

    `message_id` puts the screen in that message (the one whose button was tapped). One
    Telegram message is kept by one row, and one key by one row: a row already shown there
    under another key takes this key, or gives the message up to this key's row. `adopt` is
    the message to use only if the row has lost track of its own (a send that timed out).
    `new_message` moves the screen to a fresh message at the bottom of the chat. An identical
    screen on the same message changes nothing and returns None, and so does any screen
    under a key that already exists when `once` is set (a message sent once, never edited).
    `seen` is this key's row as read earlier in this transaction, unlocked: when it is still
    as seen, the screen is written over it in one statement.
    """
    if seen is not None and not once and (seen.chat_id, seen.key) == (chat_id, key):
        written = await _put_over_seen(session, seen, screen, lane, now, message_id, adopt,
                                       new_message)  # fmt: skip
        if written is not None:
            return written
    row = await _claim_message(session, chat_id, key, message_id, adopt)
    if row is not None and once:
        return None
    if row is None:
        await run(session, for_dialect(session, _new_row), {
            "b_user": user_id, "b_chat": chat_id, "b_key": key, "b_screen": screen,
            "b_lane": lane, "b_now": now,
        })  # fmt: skip
        row = await _locked(session, chat_id, key)
        assert row is not None
    if message_id is None and adopt is not None and row.message_id is None:
        message_id = adopt
    change = _change(row, screen, lane, now, message_id, new_message)
    if change is None:
        return None
    await run(session, _PUT, change[0])
    return change[1]


class Seen(NamedTuple):
    """A live message's row as a put reads it (`SEEN_COLUMNS`): not its owner, claim or
    timestamps, so fewer values to convert."""

    id: int
    user_id: int
    chat_id: int
    key: str
    message_id: int | None
    screen: dict[str, Any]
    version: int
    shown_version: int
    send_from: int
    due_at: datetime | None
    unsure_sends: int


async def _put_over_seen(
    session: AsyncSession,
    seen: Seen,
    screen: dict[str, Any],
    lane: int,
    now: datetime,
    message_id: int | None,
    adopt: int | None,
    new_message: bool,
) -> Pending | None:
    """Write a new screen over a row read unlocked, if it is still as seen; None if not done.

    Only the plain case: the screen changes, in the row's message or in a new one. A row
    changed meanwhile (another screen, a push recorded, a new key) fails the guard and put
    takes the locked way.
    """
    if message_id is not None and message_id != seen.message_id:
        return None  # the message changes hands: _claim_message's work
    if seen.message_id is None and adopt is not None:
        return None  # the row lost its message: adopted in the locked way
    change = _change(seen, screen, lane, now, message_id, new_message)
    if change is None:
        return None  # nothing to write, as far as an unlocked read can tell
    params, pending = change
    guard = {f"b_seen_{name}": getattr(seen, name) for name in _GUARDED}
    result = await run(session, _PUT_OVER_SEEN, params | guard)
    return pending if result.rowcount == 1 else None


@dataclass(frozen=True)
class Put:
    """A screen for put_many: the live message of a key, edited where it already is."""

    user_id: int
    chat_id: int
    key: str
    screen: dict[str, Any]
    lane: int


async def put_many(session: AsyncSession, puts: Sequence[Put], now: datetime) -> list[Pending]:
    """Set many live messages' screens with a read and a write for all; like put for each.

    A key with no row yet goes through put on its own.
    """
    if not puts:
        return []
    pairs = [(p.chat_id, p.key) for p in puts]
    result = await session.execute(
        select(*SEEN_COLUMNS)
        .where(tuple_(_TABLE.c.chat_id, _TABLE.c.key).in_(pairs))
        .order_by(_TABLE.c.id)  # locked by row, as confirm_many goes: no lock cycles
        .with_for_update()
    )
    rows = {(row.chat_id, row.key): row for row in result}
    changes, written = [], []
    for p in puts:
        row = rows.get((p.chat_id, p.key))
        if row is None:
            alone = await put(session, user_id=p.user_id, chat_id=p.chat_id, key=p.key,
                              screen=p.screen, lane=p.lane, now=now)  # fmt: skip
            written += [] if alone is None else [alone]
            continue
        change = _change(row, p.screen, p.lane, now, None, False)
        if change is not None:
            changes.append(change[0])
            written.append(change[1])
    if changes:
        await run(session, _PUT, changes)
    return written


def _change(
    row: Any,
    screen: dict[str, Any],
    lane: int,
    now: datetime,
    message_id: int | None,
    new_message: bool,
) -> tuple[dict[str, Any], Pending] | None:
    """Return the _PUT parameters and the pending push that show `screen`; None if shown."""
    moved = new_message or (message_id is not None and message_id != row.message_id)
    settled = row.due_at is not None or row.shown_version == row.version
    if not moved and row.version > 0 and row.screen == screen and settled:
        return None  # already shown, or already on its way
    version = row.version + 1
    shown_in = row.message_id
    send_from, unsure = row.send_from, row.unsure_sends
    if moved:  # pushes of earlier versions must not pull the row back where it was
        shown_in = None if new_message else message_id
        send_from, unsure = version, 0
    params = {
        "b_id": row.id, "b_screen": screen, "b_version": version, "b_lane": lane,
        "b_due": now + LEASE, "b_now": now, "b_message": shown_in, "b_send_from": send_from,
        "b_unsure": unsure,
    }  # fmt: skip
    return params, Pending(
        row.id, row.user_id, row.chat_id, shown_in, dict(screen), version, lane, 0, unsure
    )


async def _claim_message(
    session: AsyncSession, chat_id: int, key: str, message_id: int | None, adopt: int | None
) -> Any:
    """Return this key's row, locked, after taking its message from any other row showing it."""
    keyed = await _locked(session, chat_id, key)
    if message_id is None and (keyed is None or keyed.message_id is None):
        message_id = adopt
    if message_id is None or (keyed is not None and keyed.message_id == message_id):
        return keyed
    return await _take_message(session, chat_id, key, message_id, keyed)


async def _take_message(
    session: AsyncSession, chat_id: int, key: str, message_id: int, keyed: Any
) -> Any:
    """Give a Telegram message to this key's row (`keyed`, locked, or None if there is none):
    re-key the row showing it, drop the others."""
    result = await session.execute(
        select(_TABLE.c.id)
        .where(_TABLE.c.chat_id == chat_id, _TABLE.c.message_id == message_id)
        .order_by(_TABLE.c.id)
        .with_for_update()
    )
    others = list(result.scalars())
    if keyed is None and others:  # the message now shows this key's screens
        await session.execute(
            update(LiveMessage).where(LiveMessage.id == others[0]).values(key=key)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        others = others[1:]
    if others:  # the message is overwritten by this key's screen from now on
        await session.execute(
            delete(LiveMessage).where(LiveMessage.id.in_(others))
            .execution_options(synchronize_session=False)
        )  # fmt: skip
    return await _locked(session, chat_id, key) if keyed is None else keyed


async def _locked(session: AsyncSession, chat_id: int, key: str) -> Any:
    """Return a live message's columns by chat and key, locked for update (None if none)."""
    result = await run(session, _LOCKED, {"b_chat": chat_id, "b_key": key})
    return result.one_or_none()


def _new_row(dialect: str) -> Any:
    """Return the INSERT of a key's first row, unless another transaction just made it."""
    return (
        dialect_insert(dialect, LiveMessage)
        .values(user_id=bindparam("b_user"), chat_id=bindparam("b_chat"), key=bindparam("b_key"),
                screen=bindparam("b_screen"), version=0, shown_version=0, send_from=0,
                lane=bindparam("b_lane"), attempts=0, unsure_sends=0,
                updated_at=bindparam("b_now"))
        .on_conflict_do_nothing()
    )  # fmt: skip


_TABLE = LiveMessage.__table__
SEEN_COLUMNS = tuple(_TABLE.c[name] for name in Seen._fields)  # what a put reads of a row
_LOCKED = (
    select(*SEEN_COLUMNS)
    .where(_TABLE.c.chat_id == bindparam("b_chat"), _TABLE.c.key == bindparam("b_key"))
    .with_for_update()
)
_PUT = (
    update(LiveMessage)
    .where(LiveMessage.id == bindparam("b_id"))
    .values(
        screen=bindparam("b_screen"), version=bindparam("b_version"), lane=bindparam("b_lane"),
        due_at=bindparam("b_due"), attempts=0, updated_at=bindparam("b_now"),
        message_id=bindparam("b_message"), send_from=bindparam("b_send_from"),
        unsure_sends=bindparam("b_unsure"),
    )
)  # fmt: skip


# Under READ COMMITTED an UPDATE checks its WHERE again on the row as it is once locked, so the
# guard holds against any change committed since the unlocked read.
_GUARDED = ("key", "chat_id", "version", "shown_version", "message_id", "send_from",
            "unsure_sends", "due_at")  # fmt: skip
_PUT_OVER_SEEN = _PUT.where(*(
    _TABLE.c[name].is_not_distinct_from(bindparam(f"b_seen_{name}", type_=_TABLE.c[name].type))
    for name in _GUARDED
))  # fmt: skip


def _pending(row: LiveMessage) -> Pending:
    """Return the part of a row a pusher needs."""
    return Pending(row.id, row.user_id, row.chat_id, row.message_id, dict(row.screen),
                   row.version, row.lane, row.attempts, row.unsure_sends)  # fmt: skip


async def pending(session: AsyncSession, ids: Sequence[int]) -> list[Pending]:
    """Return the rows among `ids` that still wait for Telegram."""
    if not ids:
        return []
    result = await session.execute(
        select(LiveMessage)
        .where(LiveMessage.id.in_(ids), LiveMessage.due_at.is_not(None))
        .execution_options(populate_existing=True)
    )
    return [_pending(row) for row in result.scalars()]


async def backlog(session: AsyncSession) -> int:
    """Return how many live messages wait for Telegram to confirm their screen."""
    pending = select(func.count()).where(LiveMessage.due_at.is_not(None))
    return int(await session.scalar(pending) or 0)


async def due_ids(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Return ids of rows due by `now` (one indexed query; empty when all is confirmed)."""
    result = await session.execute(
        select(LiveMessage.id)
        .where(LiveMessage.due_at <= now)
        .order_by(LiveMessage.lane, LiveMessage.due_at)
        .limit(limit)
    )
    return list(result.scalars())


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, *, startup: bool = False
) -> list[Pending]:
    """Lease and return rows due by `now`; at start-up also those nobody is sending now.

    On PostgreSQL rows another process is claiming are skipped, not waited for.
    """
    due = LiveMessage.due_at <= now
    if startup:  # left pending by a process that stopped, unless another one is sending them
        free = or_(LiveMessage.claimed_until.is_(None), LiveMessage.claimed_until <= now)
        due = or_(due, and_(LiveMessage.due_at.is_not(None), free))
    query = select(LiveMessage).where(due).order_by(LiveMessage.lane, LiveMessage.due_at)
    result = await session.execute(
        query.limit(limit).with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )  # fmt: skip
    rows = list(result.scalars())
    for row in rows:
        row.due_at = now + LEASE
    await session.flush()
    return [_pending(row) for row in rows]


async def claim_send(
    session: AsyncSession, row_id: int, version: int, owner: str, now: datetime
) -> bool:
    """Take the right to send `version` as a new message; False if another process has it."""
    result = await run(session, _CLAIM_SEND, {
        "b_id": row_id, "b_version": version, "b_owner": owner, "b_now": now,
        "b_until": now + CLAIM, "b_due": now + LEASE,
    })  # fmt: skip
    return bool(result.rowcount)


_CLAIM_SEND = (
    update(LiveMessage)
    .where(
        LiveMessage.id == bindparam("b_id"),
        LiveMessage.version == bindparam("b_version"),
        LiveMessage.message_id.is_(None),
        or_(
            LiveMessage.owner.is_(None),
            LiveMessage.owner == bindparam("b_owner"),
            LiveMessage.claimed_until <= bindparam("b_now"),
        ),
    )
    .values(owner=bindparam("b_owner"), claimed_until=bindparam("b_until"),
            due_at=bindparam("b_due"))
)  # fmt: skip


_VERSION: BindParameter[int] = bindparam("b_version", type_=LiveMessage.version.type)
_NOW = bindparam("b_now", type_=LiveMessage.due_at.type)
_NEWER = LiveMessage.shown_version < _VERSION  # this push is newer than any confirmed
_CURRENT = and_(_NEWER, LiveMessage.send_from <= _VERSION)  # ... and for the current message
# A newer screen nobody pushes any more (the chat blocked the bot, the push was given up): a
# record arriving late must not start pushing it again.
_GIVEN_UP = and_(LiveMessage.due_at.is_(None), LiveMessage.version != LiveMessage.shown_version)
# The row's screen is being sent as a new message (another process may hold that claim), and
# this record is of a push to an earlier message: the claim and its lease stay as they are.
_SEND_CLAIMED = and_(
    not_(_CURRENT), LiveMessage.claimed_until.is_not(None), LiveMessage.claimed_until > _NOW
)
# Record a push Telegram made. One newer than any confirmed is shown: done unless a newer
# screen waits. One older than a confirmed push landed after it (two pushes crossed): the
# row is pushed again so the newest screen ends up on top. Either way the row is free,
# unless a new message is being sent for it.
_CONFIRM = (
    update(LiveMessage)
    .where(LiveMessage.id == bindparam("b_id"), LiveMessage.shown_version != _VERSION)
    .values(
        shown_version=case((_NEWER, _VERSION), else_=LiveMessage.shown_version),
        message_id=case(
            (_CURRENT, bindparam("b_message", type_=LiveMessage.message_id.type)),
            else_=LiveMessage.message_id,
        ),
        due_at=case(
            (and_(_NEWER, LiveMessage.version == _VERSION), None),
            (_GIVEN_UP, None),
            (_SEND_CLAIMED, LiveMessage.due_at),
            else_=_NOW,
        ),
        attempts=case((_NEWER, 0), else_=LiveMessage.attempts),
        unsure_sends=case((_CURRENT, 0), else_=LiveMessage.unsure_sends),
        owner=case((_SEND_CLAIMED, LiveMessage.owner), else_=None),
        claimed_until=case((_SEND_CLAIMED, LiveMessage.claimed_until), else_=None),
    )
)


async def confirm(
    session: AsyncSession, row_id: int, version: int, message_id: int, now: datetime
) -> None:
    """Record that Telegram shows `version` in `message_id`; done unless a newer screen waits.

    A newer screen written meanwhile is due at once, for whichever process is free (unless
    its push was given up, or a process is sending it as a new message). If a newer version
    was confirmed first (two pushes crossed), the older one landed last: the row is pushed
    again so the newest screen ends up on top.
    """
    await confirm_many(session, [Confirmed(row_id, version, message_id, now)])


class Confirmed(NamedTuple):
    """An edit Telegram made: `version` of a row is shown in `message_id` since `at`."""

    row_id: int
    version: int
    message_id: int
    at: datetime


async def confirm_many(session: AsyncSession, confirmed: Sequence[Confirmed]) -> None:
    """Record many pushes, in the order they landed, as `confirm` does each, in one statement.

    A row's last push in the batch is the one Telegram shows, so only that one is recorded.
    """
    last = {c.row_id: c for c in confirmed}
    params = [  # by row, as every statement locking several rows goes: no lock cycles
        {"b_id": c.row_id, "b_version": c.version, "b_message": c.message_id, "b_now": c.at}
        for _, c in sorted(last.items())
    ]
    await run(session, _CONFIRM, params[0] if len(params) == 1 else params)


async def retry_at(
    session: AsyncSession, row_id: int, version: int, due: datetime | None, *, unsure: bool = False
) -> None:
    """Try `version` again at `due` (None: give it up), unless a newer screen replaced it.

    A send that may have arrived (`unsure`) is counted even if a newer screen came meanwhile:
    that copy is in the chat all the same.
    """
    if unsure:
        await session.execute(
            update(LiveMessage)
            .where(
                LiveMessage.id == row_id,
                LiveMessage.message_id.is_(None),
                LiveMessage.send_from <= version,
            )
            .values(unsure_sends=LiveMessage.unsure_sends + 1)
            .execution_options(synchronize_session=False)
        )
    await session.execute(
        update(LiveMessage)
        .where(LiveMessage.id == row_id, LiveMessage.version == version)
        .values(due_at=due, attempts=LiveMessage.attempts + 1, owner=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


async def forget_message(session: AsyncSession, row_id: int, message_id: int) -> bool:
    """Send the screen as a new message next time: the old one can no longer be edited."""
    result = await session.execute(
        update(LiveMessage)
        .where(LiveMessage.id == row_id, LiveMessage.message_id == message_id)
        .values(message_id=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def drop_chat(session: AsyncSession, chat_id: int) -> None:
    """Stop pushing anything to a chat (the member blocked the bot)."""
    await session.execute(
        update(LiveMessage)
        .where(LiveMessage.chat_id == chat_id, LiveMessage.due_at.is_not(None))
        .values(due_at=None)
        .execution_options(synchronize_session=False)
    )
