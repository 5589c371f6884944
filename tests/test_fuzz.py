"""Stateful fuzzing: members interleave commands, texts, taps, forgeries and time."""

from __future__ import annotations

import asyncio
import copy
import os
import re
import traceback
from collections import Counter
from collections.abc import Awaitable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any, TypeVar

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, Phase, note, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Table, delete, select, text

from bot.clock import ManualClock
from bot.coaching.session import Plan
from bot.context import BandCoachApp
from bot.fake_telegram import FakeMessage, FakeTelegram, FakeUser
from bot.fake_telegram.formatting import utf16_len
from bot.fake_telegram.harness import running_app as harness
from bot.fake_telegram.limits import MAX_TEXT_LENGTH
from bot.reminders import dispatch_due
from storage.db import Database
from storage.models import (
    Base,
    LiveMessage,
    PainCheckin,
    SessionSet,
    WorkoutSession,
)
from tests.conftest import FAKE_TOKEN, HandlerErrors, make_settings, no_wait
from tests.flows import CAT, begin, onboard, rows_of, tick
from tests.shapes import MESSAGE_KINDS, message

# Every fault here runs with DEBUG logs on, and none of them may carry the token.
pytestmark = pytest.mark.usefixtures("debug_logs_without_token")

# How it runs: hypothesis' RuleBasedStateMachine is synchronous, while the app is async and
# its database engine, HTTPX client and job queue belong to one event loop. So each example
# (one machine) owns a fresh event loop, and every rule and invariant drives the real app with
# loop.run_until_complete. The app's background jobs run whenever the loop does, as in any
# other flow test. Each example gets its own fake Telegram, clock and app, on the test's
# database (SQLite or PostgreSQL) wiped after the example, so examples never see each other's
# rows, and a failing sequence replays alone. The pytest test itself takes only the
# function-scoped `database_url` fixture and calls run_state_machine_as_test, so no @given is
# combined with function-scoped fixtures. A failure prints the sequence as a program
# (`state.send(typed='/start', who=0)` …) with each step's log line, and the log in its message.

# The normal run is small and reproducible (derandomized, no example database). For a bigger
# hunt: BANDCOACH_FUZZ_EXAMPLES=500 sets the number of examples per backend, and
# BANDCOACH_FUZZ_RANDOM=1 draws new sequences each run instead of the same ones. Shrinking a
# failure replays a real app hundreds of times and rarely finishes within hypothesis' five
# minutes, so it is on only with BANDCOACH_FUZZ_SHRINK=1; without it a failure shows its whole
# sequence, numbered, in its message.
EXAMPLES = int(os.environ.get("BANDCOACH_FUZZ_EXAMPLES", "20"))
RANDOM = os.environ.get("BANDCOACH_FUZZ_RANDOM") == "1"
SHRINK = os.environ.get("BANDCOACH_FUZZ_SHRINK") == "1"
STEPS = 40
START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 06:00 UTC, as the clock fixture
NAMES = ("Sam", "محمد", "<b>Zoë & 🦄</b>")  # the bot greets members by their names
SEEN_LIMIT = 40  # keyboards each member remembers for stale taps

COMMANDS = (
    "/start",
    "/warmup",
    "/checkin",
    "/plan",
    "/reminders",
    "/help",
    "/progress",
    "/summary",
    "/history",
    "/settings",
    "/export",
    "/deletedata",
    "/stats",
    "/dance",
    "/START",
    "/warmup now please",
    "/start@band_coach_test_bot",
    "/help@some_other_bot",
    "/checkin@Band_Coach_Test_Bot extra",
)
ODD_TEXTS = (
    "7",
    "0",
    "-1",
    "1e9",
    "0x10",
    "٣",  # an Arabic-Indic three
    "12.5",
    "99999999999999999999999",
    "07:30",
    "25:99",
    "Europe/London",
    "Mars/Base",
    "UTC",
    "שלום עולם",  # right-to-left
    "مرحبا 12",
    "\u200b",  # a zero-width space alone
    "1\u200d2",  # zero-width joiner inside a number
    "\u202e7",  # right-to-left override
    "💪🏽🔥",
    "<b>bold</b> & <i>",
    "x\n" * 100,
)
# Typed text as a Telegram user can send it: non-blank, at most 4096 UTF-16 units.
TYPED = st.one_of(
    st.sampled_from(ODD_TEXTS),
    st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40).filter(
        lambda s: bool(s.strip())
    ),
)
PREFIXES = ("ob", "oe", "st", "rm", "rs", "wu", "ws", "ci", "mo", "rp", "dd", "zz", "")
FIELD = st.one_of(
    st.integers(min_value=-5, max_value=12).map(str),
    st.sampled_from(["0", "1", "2", "999999999999999999", "1e9", "0x10", "-1", "٣", "n201"]),
    st.sampled_from(["d", "f", "s", "x", "g", "r", "b", "n5", "p3", "t3.1", "k", "resume"]),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6),
)


def _for_another_bot(typed: str) -> bool:
    """Tell whether a text is a command addressed to some other bot (which gets no answer)."""
    first = typed.split(maxsplit=1)[0] if typed.split() else ""
    return (
        first.startswith("/")
        and "@" in first
        and not first.lower().endswith("@band_coach_test_bot")
    )


def _fits(data: str) -> bool:
    """Tell whether callback data is something Telegram would deliver (1-64 bytes)."""
    return 1 <= len(data.encode()) <= 64


# An id in callback data: the first few rows (someone's, or nobody's yet), or far too big.
ROW_ID = st.one_of(st.integers(0, 6), st.sampled_from([10**18 - 1, 10**18]))
# Data shaped like each button family's, with values any member could type into a forgery.
WELL_FORMED = st.one_of(
    st.builds(
        "ws:{}:{}:{}".format,
        ROW_ID,
        st.integers(0, 40),
        st.sampled_from([*"dfsxgrbu", "n0", "n7", "n200", "n201", "n007"]),
    ),
    st.builds(
        "ci:{}:{}".format,
        ROW_ID,
        st.sampled_from(
            ["k", "p0", "p10", "p11", "t3.1", "t3.255", "d3.0", "d3.5", "s3.1.l", "s10.63.s"]
        ),
    ),
    st.builds("wu:{}:{}".format, st.sampled_from(["resume", "abandon"]), ROW_ID),
    st.builds("mo:{}:{}".format, ROW_ID, st.sampled_from(["b", "u", "w", "x"])),
    st.builds("rm:{}:{}".format, st.sampled_from(["go", "sn", "sk"]), ROW_ID),
    st.sampled_from(
        [
            *(f"wu:r:{key}" for key in CAT.routines),
            "wu:r:nope",
            "wu:m:quick:0",
            "wu:m:quick:65535",
            "wu:g:quick:0",
            "wu:g:quick:1",
            "wu:n:lower:9",
            "wu:n:lower:3",
            "wu:b:lower:2:green",
            "wu:b:lower:2:gold",
            "wu:b:quick:1:green:0",
            "rs:menu",
            "rs:done",
            "rs:days",
            "rs:time",
            "rs:tz",
            "rs:day:0",
            "rs:day:7",
            "rs:at:0730",
            "rs:at:2500",
            "rs:zone:Europe/London",
            "rs:zone:Mars/Base",
            "rs:pw",
            "rs:po",
            "rs:resume",
            "st:change",
            "st:keep",
            "st:goal",
            "st:bands",
            "st:rem",
            "st:export",
            "st:delete",
            "st:alerts1",
            "st:menu",
            "oe:goal:lift",
            "oe:band:m3",
            "oe:band:d6",
            "oe:band:none",
            "oe:timezone:UTC",
            "rp:sum",
            "rp:pg:1:12",
            "rp:pg:99999:0",
            "rp:pg:1",
            "dd:yes:0",
            "dd:no:1",
            "dd:yes:99999999999999",
            "ob:goal:lift",
            "ob:goal:nope",
            "ob:band:green",
            "ob:band:none",
            "ob:schedule:mwf07",
            "ob:schedule:never",
            "ob:timezone:UTC",
            "ob:timezone:Mars/Base",
        ]
    ),
)
GARBAGE = st.one_of(
    st.builds(
        lambda prefix, fields: ":".join([prefix, *fields]),
        st.sampled_from(PREFIXES),
        st.lists(FIELD, max_size=4),
    ).filter(_fits),
    st.text(min_size=1, max_size=64).filter(_fits),
)
HEAD_STARTS = ("new", "started", "onboarded", *(f"in {key}" for key in CAT.routines))
SECONDS = st.sampled_from([1, 2, 3, 5, 10, 30, 61, 600, 2 * 3600 + 61, 12 * 3600, 86400])

T = TypeVar("T")
TOTALS: Counter[str] = Counter()  # what the examples of one run did, printed at its end


class HostileWorld(RuleBasedStateMachine):
    """Two or three members poke the real app in every way a Telegram user can."""

    def __init__(self, database_url: str) -> None:
        """Start a fresh app, fake and clock on its own event loop."""
        super().__init__()
        self.database_url = database_url
        self.loop = asyncio.new_event_loop()
        self.fake = FakeTelegram(token=FAKE_TOKEN)
        self.clock = ManualClock(START)
        self.errors = HandlerErrors()
        self.failures: list[tuple[str, BaseException]] = []
        self.members: list[FakeUser] = []
        self.seen: dict[int, list[FakeMessage]] = {}
        self.log: list[str] = []
        self.checked_calls = 0
        self.stack = AsyncExitStack()
        try:
            self.app: BandCoachApp = self._run(
                self.stack.enter_async_context(
                    harness(
                        # The fuzzer taps far faster than people: at Telegram's 30 messages
                        # a second the delivery lanes would make it wait in wall time.
                        make_settings(database_url, telegram_messages_per_second=1000),
                        self.fake,
                        self.clock,
                        on_error=self.errors.record,
                        sleep=no_wait,
                    )
                )
            )
        except BaseException:  # hypothesis only tears down a machine that was built
            self.loop.close()
            raise
        alerts = self.app.bot_data.alerts
        original = alerts.failed

        async def record(exc: BaseException, *, where: str, detail: str = "") -> None:
            """Remember every failure the app reports (jobs and delivery never raise)."""
            self.failures.append((where, exc))
            await original(exc, where=where, detail=detail)

        alerts.failed = record  # type: ignore[method-assign]

    # ------------------------------------------------------------------ plumbing

    def _run(self, awaitable: Awaitable[T]) -> T:
        """Run a coroutine on this example's loop (the app's jobs run meanwhile)."""
        return self.loop.run_until_complete(awaitable)

    @property
    def db(self) -> Database:
        """Return the app's database."""
        return self.app.bot_data.db

    def _member(self, who: int) -> FakeUser:
        """Return a member by a drawn index."""
        return self.members[who % len(self.members)]

    def _step(self, line: str) -> None:
        """Log one step so a failure reads as a story."""
        self.log.append(line)
        note(f"step {len(self.log)}: {line}")

    def _act(
        self,
        actor: FakeUser | None,
        line: str,
        action: Awaitable[object],
        *,
        expects_reply: bool = False,
    ) -> None:
        """Run one member's update (or a clock move), then check nobody else's rows changed."""
        self._step(line)
        others = [m.user_id for m in self.members if m is not actor]
        # Earlier edits' records are written a moment later (Database.defer): write them
        # first, so the rows compared are settled and any change is this update's doing.
        self._run(self.app.bot_data.delivery.settle())
        before = {} if actor is None else self._run(rows_of(self.db, others))
        calls = len(self.fake.calls)
        self._run(action)
        self._remember_keyboards()
        if actor is None:  # time passing may change anyone's rows
            return
        if expects_reply:  # a message in a private chat always gets an answer in that chat
            answers = [
                c for c in self.fake.calls[calls:] if c.params.get("chat_id") == actor.chat_id
            ]
            assert answers, f"{actor.user_id} got no answer\n{self._story()}"
        after = self._run(rows_of(self.db, others))
        for table, rows in before.items():
            assert after[table] == rows, (
                f"{actor.user_id}'s update changed other members' {table}:\n"
                f"before {rows}\nafter  {after[table]}\n{self._story()}"
            )

    def _tap(
        self, member: FakeUser, message: FakeMessage, button: dict[str, Any], how: str
    ) -> None:
        """Tap a button of a message as the member saw it (current or stale)."""
        label, data = str(button["text"]), str(button["callback_data"])
        labels = [str(b["text"]) for row in message.inline_keyboard for b in row]
        self._act(
            member,
            f"{member.user_id} {how} {label!r} ({data}) on #{message.message_id} "
            f"v{message.version}",
            member.tap(label, message=message)
            if labels.count(label) == 1
            else member.tap_data(data, message.message_id),  # two buttons share a label
        )

    def _story(self) -> str:
        """Return the steps so far, numbered."""
        return "\n".join(f"  {i}. {line}" for i, line in enumerate(self.log, 1))

    def _remember_keyboards(self) -> None:
        """Keep a copy of every keyboard each member has seen, for stale taps later."""
        for member in self.members:
            seen = self.seen.setdefault(member.user_id, [])
            known = {(m.message_id, m.version) for m in seen}
            for msg in self.fake.bot_messages(member.chat_id):
                if msg.inline_keyboard and (msg.message_id, msg.version) not in known:
                    seen.append(copy.deepcopy(msg))
            del seen[:-SEEN_LIMIT]

    # ------------------------------------------------------------------ members

    @initialize(
        count=st.integers(min_value=2, max_value=3),
        heads=st.lists(st.sampled_from(HEAD_STARTS), min_size=3, max_size=3),
    )
    def join(self, count: int, heads: list[str]) -> None:
        """Open the members' private chats, each with a head start into some flow."""
        self.members = [
            self.fake.user(1001 + i, first_name=NAMES[i], language_code=("en", "ar", "de")[i])
            for i in range(count)
        ]
        self._step(f"{count} members")
        for member, head in zip(self.members, heads, strict=False):
            self._act(member, f"{member.user_id} head start: {head}", _head_start(member, head))

    @rule(who=st.integers(0, 2), command=st.sampled_from(COMMANDS))
    def command(self, who: int, command: str) -> None:
        """Send a command, known or not, maybe addressed to some bot."""
        member = self._member(who)
        line = f"{member.user_id} sends {command!r}"
        self._act(member, line, member.send(command), expects_reply=not _for_another_bot(command))

    @rule(who=st.integers(0, 2), typed=TYPED)
    def send(self, who: int, typed: str) -> None:
        """Type text: numbers in every disguise, right-to-left, invisible, emoji, markup."""
        member = self._member(who)
        line = f"{member.user_id} types {typed[:60]!r}"
        self._act(member, line, member.send(typed), expects_reply=not _for_another_bot(typed))

    @rule(who=st.integers(0, 2), unit=st.sampled_from(["a", "7", "🦄", "x\n", "שׁ"]))
    def send_longest(self, who: int, unit: str) -> None:
        """Type the longest text Telegram carries in one message: 4096 UTF-16 units."""
        member = self._member(who)
        typed = unit * (MAX_TEXT_LENGTH // utf16_len(unit))
        line = f"{member.user_id} types {unit!r} × {len(typed) // len(unit)}"
        self._act(member, line, member.send(typed), expects_reply=not _for_another_bot(typed))

    @rule(who=st.integers(0, 2), picks=st.lists(st.integers(0, 31), min_size=1, max_size=6))
    def tap_current(self, who: int, picks: list[int]) -> None:
        """Tap buttons of the newest keyboard, a few in a row (so flows get somewhere)."""
        member = self._member(who)
        for pick in picks:
            if not member.buttons():
                self._step(f"{member.user_id} has no keyboard to tap")
                return
            message = self.fake.last_keyboard_message(member.chat_id)
            buttons = [b for row in message.inline_keyboard for b in row]
            self._tap(member, message, buttons[pick % len(buttons)], "taps")

    @rule(who=st.integers(0, 2), presses=st.integers(1, 12))
    def press_on(self, who: int, presses: int) -> None:
        """Tap the first button of the newest keyboard again and again (Done, Skip rest, …)."""
        member = self._member(who)
        for _ in range(presses):
            if not member.buttons():
                self._step(f"{member.user_id} has no keyboard to press")
                return
            message = self.fake.last_keyboard_message(member.chat_id)
            self._tap(member, message, message.inline_keyboard[0][0], "presses")

    @rule(who=st.integers(0, 2), which=st.integers(0, SEEN_LIMIT), pick=st.integers(0, 31))
    def tap_stale(self, who: int, which: int, pick: int) -> None:
        """Tap a button of a keyboard as the member saw it earlier (maybe long gone)."""
        member = self._member(who)
        seen = self.seen.get(member.user_id) or []
        if not seen:
            self._step(f"{member.user_id} has seen no keyboard yet")
            return
        old = seen[which % len(seen)]
        buttons = [b for row in old.inline_keyboard for b in row]
        self._tap(member, old, buttons[pick % len(buttons)], "taps old")

    @rule(who=st.integers(0, 2), data=WELL_FORMED)
    def tap_forged(self, who: int, data: str) -> None:
        """Send a callback query shaped like a real button's, for anyone's rows or nobody's."""
        self._forge(who, data)

    @rule(who=st.integers(0, 2), data=GARBAGE)
    def tap_garbage(self, who: int, data: str) -> None:
        """Send a callback query with data no version of the bot ever made."""
        self._forge(who, data)

    def _forge(self, who: int, data: str) -> None:
        """Deliver forged callback data on the member's newest bot message."""
        member = self._member(who)
        if not self.fake.bot_messages(member.chat_id):  # a query always comes from a message
            self._step(f"{member.user_id} has no message to forge a tap on")
            return
        self._act(member, f"{member.user_id} forges {data!r}", member.tap_data(data))

    @rule(
        owner=st.integers(0, 2),
        thief=st.integers(1, 2),
        which=st.integers(0, SEEN_LIMIT),
        pick=st.integers(0, 31),
    )
    def tap_others(self, owner: int, thief: int, which: int, pick: int) -> None:
        """Replay another member's button data from one's own chat."""
        victim = self._member(owner)
        member = self.members[(owner + thief) % len(self.members)]
        if member is victim:
            member = self.members[(owner + 1) % len(self.members)]
        seen = self.seen.get(victim.user_id) or []
        if not seen or not self.fake.bot_messages(member.chat_id):
            self._step(f"{member.user_id} cannot replay {victim.user_id}'s buttons yet")
            return
        old = seen[which % len(seen)]
        buttons = [b for row in old.inline_keyboard for b in row]
        data = str(buttons[pick % len(buttons)]["callback_data"])
        self._act(
            member, f"{member.user_id} replays {victim.user_id}'s {data!r}", member.tap_data(data)
        )

    @rule(who=st.integers(0, 2), where=st.sampled_from([(51.5, -0.12), (-33.9, 151.2), (0, 0)]))
    def share_location(self, who: int, where: tuple[float, float]) -> None:
        """Share a location (the answer /reminders accepts for the time zone)."""
        member = self._member(who)
        line = f"{member.user_id} shares {where}"
        self._act(member, line, member.share_location(*where), expects_reply=True)

    @rule(who=st.integers(0, 2), kind=st.sampled_from(MESSAGE_KINDS))
    def send_odd(self, who: int, kind: str) -> None:
        """Send a message of any other kind: a sticker, a poll, a payment, a service message."""
        member = self._member(who)
        chat, number = self.fake.chats[member.chat_id], 10**6 + len(self.log)
        body = message(kind, chat, member.to_dict(), message_id=number)
        self._act(member, f"{member.user_id} sends a {kind}", self.fake.deliver({"message": body}))

    @rule(seconds=SECONDS)
    def wait(self, seconds: int) -> None:
        """Let time pass: countdowns and rests fire, idle sessions close, reminders go out."""
        self._act(None, f"{seconds} s pass", self._wait(seconds))

    async def _wait(self, seconds: int) -> None:
        """Fire the timers and the reminders due after `seconds`, as the jobs would."""
        await tick(self.app, self.clock, seconds)
        stats = await dispatch_due(self.app.bot_data, self.clock())
        assert not stats.errors, stats.errors

    # ------------------------------------------------------------------ invariants

    @invariant()
    def sound(self) -> None:
        """After every step: nothing failed, every tap answered, the stored rows consistent."""
        self._nothing_raised()
        self._every_tap_answered_and_every_call_accepted()
        self._run(self._check_sessions())

    def _nothing_raised(self) -> None:
        """No handler raised, and no job or delivery reported a failure."""
        if self.errors.errors or self.failures:
            details = "\n".join(
                "".join(traceback.format_exception(err))
                for err in [e for _, e in self.errors.errors] + [e for _, e in self.failures]
            )
            raise AssertionError(f"A failure after:\n{self._story()}\n{details}")

    def _every_tap_answered_and_every_call_accepted(self) -> None:
        """Every callback query got its answer, and Telegram refused no call."""
        unanswered = [q for q in self.fake.callback_queries.values() if not q.answered]
        assert not unanswered, f"Unanswered: {unanswered}\n{self._story()}"
        refused = [
            c
            for c in self.fake.calls[self.checked_calls :]
            # An edit to what the message already shows: delivery counts it as shown.
            if not c.ok and "message is not modified" not in str(c.response.get("description"))
        ]
        self.checked_calls = len(self.fake.calls)
        assert not refused, (
            "Telegram refused:\n"
            + "\n".join(f"{c.method} {c.params} -> {c.response}" for c in refused)
            + f"\n{self._story()}"
        )

    async def _check_sessions(self) -> None:
        """Positions in the plan, one set per position, sessions' rows and screens their owner's."""
        async with self.db.read() as session:
            sessions = (await session.execute(select(WorkoutSession))).scalars().all()
            sets = (await session.execute(select(SessionSet))).scalars().all()
            checkins = (await session.execute(select(PainCheckin))).scalars().all()
            lives = (await session.execute(select(LiveMessage))).scalars().all()
        lengths = {row.id: len(Plan.from_json(row.plan).steps) for row in sessions}
        owners = {row.id: row.user_id for row in sessions}
        after = f"\nafter:\n{self._story()}"
        active: dict[int, int] = {}
        for row in sessions:
            assert 0 <= row.position <= lengths[row.id], (
                f"session {row.id} at position {row.position} of {lengths[row.id]}{after}"
            )
            if row.status == "active":
                active[row.user_id] = active.get(row.user_id, 0) + 1
        assert all(n == 1 for n in active.values()), f"active sessions per user {active}{after}"
        keys = [(s.session_id, s.position) for s in sets]
        assert len(keys) == len(set(keys)), f"sets logged twice: {keys}{after}"
        for logged in sets:
            assert 0 <= logged.position < lengths[logged.session_id], (
                f"set {logged.id} at position {logged.position} of session "
                f"{logged.session_id} ({lengths[logged.session_id]} steps){after}"
            )
        for answer in checkins:
            if answer.session_id is not None:
                assert owners[answer.session_id] == answer.user_id, (
                    f"check-in {answer.id} of user {answer.user_id} on session "
                    f"{answer.session_id} of user {owners[answer.session_id]}{after}"
                )
        shown_in: dict[tuple[int, int], str] = {}
        for live in lives:
            key = re.fullmatch(r"(ws|ci|cr|mo)([0-9]+)", live.key)
            if key is not None:  # a session's screens live in its owner's chat only
                owner = owners.get(int(key[2]))
                assert owner == live.user_id == live.chat_id, (
                    f"live message {live.key!r} in chat {live.chat_id} of user {live.user_id}, "
                    f"but session {key[2]} is {f'user {owner}' if owner else 'nobody'}'s{after}"
                )
            if live.message_id is not None:  # one Telegram message is kept by one row
                where = (live.chat_id, live.message_id)
                assert where not in shown_in, (
                    f"live messages {shown_in.get(where)!r} and {live.key!r} both keep message "
                    f"#{live.message_id} in chat {live.chat_id}{after}"
                )
                shown_in[where] = live.key
        screens = {live.key: live.screen for live in lives}
        for row in sessions:
            screen = screens.get(f"ws{row.id}")
            if row.status == "active" and screen is not None:  # a running session has buttons
                assert screen.get("buttons"), (
                    f"active session {row.id} shows no buttons: {screen}{after}"
                )

    # ------------------------------------------------------------------ end of an example

    def teardown(self) -> None:
        """Stop the app, empty the database for the next example, close the loop."""
        try:
            TOTALS.update(
                examples=1, steps=len(self.log), updates=len(self.fake.updates),
                taps=len(self.fake.callback_queries), calls=len(self.fake.calls),
            )  # fmt: skip
            self._run(self.stack.aclose())
            self._run(_wipe(self.database_url))
        finally:
            self.loop.close()


async def _head_start(member: FakeUser, head: str) -> None:
    """Bring a new member to a starting point: nowhere, /start, onboarded, or mid warm-up."""
    if head == "started":
        await member.send("/start")
    elif head == "onboarded":
        await onboard(member)
    elif head.startswith("in "):
        routine = CAT.routine(head.removeprefix("in "))
        several = len(routine.round_choices) > 1
        rounds = f"✓ {routine.rounds} rounds (suggested)" if several else None
        await begin(member, routine.key, rounds)


async def _wipe(database_url: str) -> None:
    """Delete every row (and restart PostgreSQL's ids) so the next example starts empty."""
    db = Database(database_url)
    try:
        async with db.write() as session:
            tables: list[Table] = list(reversed(Base.metadata.sorted_tables))
            if db.is_sqlite:
                for table in tables:
                    await session.execute(delete(table))
            else:
                names = ", ".join(table.name for table in tables)
                await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await db.dispose()


def test_members_in_a_hostile_world_break_nothing(database_url: str) -> None:
    """Random interleavings of every kind of update keep the app and its data sound."""
    TOTALS.clear()
    run_state_machine_as_test(
        lambda: HostileWorld(database_url),  # type: ignore[arg-type]  # any factory will do
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=not RANDOM,
            database=None,
            phases=[Phase.generate, Phase.shrink] if SHRINK else [Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print("fuzzed:", " ".join(f"{name}={n}" for name, n in TOTALS.items()))  # for the README
