"""`bandcoach chat`: driven in a pseudo-terminal as a person would, plus its renderer and clock."""

from __future__ import annotations

import io
import os
import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pexpect
import pytest

from bot.app import build_application
from bot.clock import ManualClock, ScaledClock, clock_speed, system_clock
from bot.console import texts
from bot.console.history import KEEP, history_path, load_history, save_history
from bot.console.render import render_message, save_file, wrap
from bot.console.screen import Screen
from bot.console.taps import Hint, Quit, Send, Tap, keyed_buttons, resolve
from bot.console.terminal import LineEditor
from bot.console.timeline import console_clock, load_instant, save_instant
from bot.fake_telegram import DEFAULT_TOKEN, FakeMessage, FakeTelegram
from bot.scheduler import TIMER_POLL_SECONDS, schedule_jobs
from tests.conftest import make_settings

# Upper bounds that only stop a broken run from hanging; every wait ends on the awaited text.
HANG_GUARD = 90
PROMPT = "you › "


# ---------------------------------------------------------------- in a pseudo-terminal


def spawn_chat(
    tmp_path: Path, database: Path, *args: str, greeting: str = texts.NEW_HERE
) -> pexpect.spawn:
    """Start `python -m bot chat` in a pseudo-terminal, in tmp_path, on a SQLite file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(DATABASE_URL=f"sqlite:///{database}", TERM="xterm", LOG_LEVEL="DEBUG")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "bot", "chat", *args],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        codec_errors="replace",
        dimensions=(60, 120),
        timeout=HANG_GUARD,
    )
    child.logfile_read = io.StringIO()
    child.expect_exact(greeting)
    child.expect_exact(PROMPT)
    return child


def say(child: pexpect.spawn, line: str, *expected: str) -> None:
    """Type a line, then wait for each expected text in turn."""
    child.sendline(line)
    for text in expected:
        child.expect_exact(text)


def transcript(child: pexpect.spawn) -> str:
    """Return everything the chat printed so far."""
    log = child.logfile_read
    assert isinstance(log, io.StringIO)
    return log.getvalue()


def finish(child: pexpect.spawn) -> str:
    """Wait for the goodbye and a clean exit; return the whole transcript."""
    child.expect_exact(texts.BYE)
    child.expect(pexpect.EOF)
    child.close()
    output = transcript(child)
    assert child.exitstatus == 0, output
    assert "Traceback" not in output, output
    return output


@pytest.fixture
def chat_db(tmp_path: Path) -> Iterator[Path]:
    """Yield the path of the SQLite file the chat uses."""
    yield tmp_path / "chat.sqlite3"


def logged_sets(database: Path) -> list[tuple[str, str, int, int, str]]:
    """Return the sets logged in the database, in plan order."""
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT exercise_key, unit, target, actual, outcome FROM session_sets ORDER BY position"
        ).fetchall()


def test_onboarding_and_a_fast_warmup_are_logged_and_kept(tmp_path: Path, chat_db: Path) -> None:
    child = spawn_chat(tmp_path, chat_db, "--fast", "--name", "Robin", "--user-id", "4242")
    # Onboarding by button numbers and by labels.
    say(child, "/start", "Hi Robin! I'm Band Coach", "[2] Ease low-back discomfort")
    say(child, "2", "Step 2 of 4")
    say(child, "green", "✓ 🟢 Green")
    say(child, "save", "Step 3 of 4")
    say(child, "No reminders for now", "Step 4 of 4")
    say(child, "1", "All set")
    # A guided warm-up: a timed step (two 8 s holds) runs by itself, a rep step is tapped.
    say(child, "/warmup", "Which warm-up today?")
    say(child, "glutes for back relief", "are bodyweight squats")
    say(child, "yes", "how many rounds?")
    say(child, "2", "Which band are you using?")
    say(child, "1", "round 1/2 · step 1/8", "[1] ▶ Start timer")
    say(child, "start timer", "Get ready", "Hold 2/2")
    child.expect_exact("Seated glute squeeze: ✅ 2 reps")
    child.expect_exact("Next: Slow squeeze build-ups")
    child.expect_exact("round 1/2 · step 2/8")  # the rest ran out on its own
    say(child, "done", "Slow squeeze build-ups: ✅ 3 reps")
    child.expect_exact("round 1/2 · step 3/8")  # the rest ran out: glute bridges are next
    say(child, "/quit")
    finish(child)
    assert logged_sets(chat_db) == [
        ("glute_squeeze", "hold", 2, 2, "done"),
        ("squeeze_build", "reps", 3, 3, "done"),
    ]
    log = (tmp_path / "data" / "chat.log").read_text(encoding="utf-8")
    assert "sendMessage" in log  # DEBUG really logged the requests, to the file
    assert DEFAULT_TOKEN not in log and DEFAULT_TOKEN.split(":", 1)[1] not in log

    # Running chat again shows the last messages, the step with live buttons last; Ctrl-D leaves.
    back = texts.WELCOME_BACK_ABOVE["training"].format(name="Robin")  # a returning member
    again = spawn_chat(
        tmp_path, chat_db, "--fast", "--name", "Robin", "--user-id", "4242", greeting=back
    )
    shown = transcript(again)
    assert shown.index(texts.EARLIER) < shown.index("you › /warmup") < shown.index("step 3/8")
    say(again, "done", "Glute bridge: ✅ 10 reps")  # the kept step's buttons still work
    again.sendcontrol("d")
    finish(again)
    assert len(logged_sets(chat_db)) == 3
    assert (tmp_path / "data" / "chat-history-4242.json").exists()


def test_garbage_out_of_range_and_empty_lines_get_a_friendly_line(
    tmp_path: Path, chat_db: Path
) -> None:
    child = spawn_chat(tmp_path, chat_db)
    say(child, "/start", "Step 1 of 4")
    say(child, "9", "There's no button 9 here: type 1 to 2")
    say(child, "", texts.EMPTY)
    say(child, "   ", texts.EMPTY)
    say(child, "zxqv ☃ \x1b[A#!%", "Tap one of the buttons below")
    say(child, "/nonsense", "I don't know /nonsense")
    say(child, "Warm up before lifting", "Step 2 of 4")  # still alive and answering
    child.sendcontrol("d")
    finish(child)


def test_ctrl_d_on_an_empty_line_exits_cleanly(tmp_path: Path, chat_db: Path) -> None:
    child = spawn_chat(tmp_path, chat_db)
    child.sendcontrol("d")
    output = finish(child)
    assert texts.BYE in output


# ---------------------------------------------------------------- renderer and input


def bot_message(text: str, rows: list[list[str]], **fields: object) -> FakeMessage:
    """Return a bot message with callback buttons labelled as given."""
    keyboard = [[{"text": label, "callback_data": f"cb:{label}"} for label in row] for row in rows]
    return FakeMessage(
        chat_id=1,
        message_id=7,
        from_bot=True,
        date=0,
        text=text,
        reply_markup={"inline_keyboard": keyboard} if rows else None,
        **fields,  # type: ignore[arg-type]
    )


def test_buttons_are_numbered_in_reading_order_under_the_message() -> None:
    message = bot_message("Pick one\nor two", [["✅ Done", "➖ Fewer"], ["⏹ Stop"]])
    assert render_message(message) == [
        "Band Coach › Pick one",
        "  or two",
        "  [1] ✅ Done   [2] ➖ Fewer",
        "  [3] ⏹ Stop",
    ]


def test_control_characters_from_the_bot_never_reach_the_terminal() -> None:
    message = bot_message("You typed “\x1b[2Jhi\tthere\x07”", [["\x1b[Aup"]])
    assert render_message(message) == ["Band Coach › You typed “[2Jhi there”", "  [1] [Aup"]


def test_number_labels_are_their_own_keys() -> None:
    message = bot_message("How many?", [["0", "1", "2"], ["← Back"]])
    assert render_message(message)[1:] == ["  [0]   [1]   [2]", "  [← Back]"]
    rounds = bot_message("Rounds?", [["✓ 2 rounds (suggested)", "3 rounds"]])
    assert [b.key for b in keyed_buttons(rounds)[0]] == ["2", "3"]
    assert render_message(rounds)[1] == "  [2] ✓ 2 rounds (suggested)   [3] 3 rounds"
    pain = bot_message("Pain?", [["0 · none", "1", "2"], ["9", "10 · worst"]])
    assert [b.key for row in keyed_buttons(pain) for b in row] == ["0", "1", "2", "9", "10"]


def test_typed_lines_become_taps_messages_or_hints() -> None:
    message = bot_message("Step", [["✅ Done", "➖ Fewer"], ["⏹ Stop"]])
    assert resolve("2", message) == Tap(7, keyed_buttons(message)[0][1])
    assert resolve(" done ", message) == Tap(7, keyed_buttons(message)[0][0])
    assert resolve("STOP", message) == Tap(7, keyed_buttons(message)[1][0])
    assert resolve("4", message) == Hint(texts.NO_SUCH_BUTTON.format(number="4", last=3))
    assert resolve("0", message) == Hint(texts.NO_SUCH_BUTTON.format(number="0", last=3))
    assert resolve("", message) == Hint(texts.EMPTY)
    assert resolve("/help", message) == Send("/help")
    assert resolve("I did 8", message) == Send("I did 8")
    assert resolve("/quit", message) == Quit()
    assert resolve("4", None) == Send("4")
    assert resolve("x" * 4097, None) == Hint(texts.TOO_LONG.format(limit=4096))


def test_typed_numbers_on_a_number_keyboard_tap_that_number_or_go_to_the_bot() -> None:
    picker = bot_message("How many?", [["5", "6", "7"], ["← Back"]])
    assert resolve("7", picker) == Tap(7, keyed_buttons(picker)[0][2])
    assert resolve("back", picker) == Tap(7, keyed_buttons(picker)[1][0])
    assert resolve("13", picker) == Send("13")  # a typed count the bot itself understands


def test_words_and_the_start_of_a_word_tap_their_button() -> None:
    pain = bot_message("Pain?", [["0 · none", "1", "2"], ["9", "10 · worst"]])
    assert resolve("none", pain) == Tap(7, keyed_buttons(pain)[0][0])
    assert resolve("worst", pain) == Tap(7, keyed_buttons(pain)[1][1])
    assert resolve("0", pain) == Tap(7, keyed_buttons(pain)[0][0])
    nudge = bot_message("⏰", [["▶️ Start now"], ["😴 Snooze 1 h", "⏭ Skip today"]])
    assert resolve("snooze", nudge) == Tap(7, keyed_buttons(nudge)[1][0])
    assert resolve("s", nudge) == Hint(texts.AMBIGUOUS.format(text="s"))  # start or snooze?
    assert resolve("a note about my knee", nudge) == Send("a note about my knee")


def test_same_labels_ask_for_the_number_and_links_are_not_followed() -> None:
    twins = bot_message("Which?", [["Green", "green"]])
    assert resolve("green", twins) == Hint(texts.AMBIGUOUS.format(text="green"))
    link = FakeMessage(
        chat_id=1,
        message_id=3,
        from_bot=True,
        date=0,
        text="Read",
        reply_markup={"inline_keyboard": [[{"text": "Article", "url": "https://example.org"}]]},
    )
    assert resolve("1", link) == Hint(texts.LINK.format(label="Article", url="https://example.org"))


def test_the_line_editor_edits_ignores_escapes_and_ends_on_ctrl_d() -> None:
    lines: list[str | None] = []
    screen = Screen(io.StringIO(), tty=True, size=lambda: os.terminal_size((80, 24)))
    editor = LineEditor(screen, lines.append, fd=-1)
    editor.feed("dome\x7f\x7fne\r\n")  # Backspace twice; \r\n is one Enter
    editor.feed("\x1b[A\x1bOB\x1b[1;5Cgr\teen\n")  # arrow keys are dropped, Tab is a space
    editor.feed("oops\x15  \n")  # Ctrl-U empties the line
    editor.feed("tap the\x17button\n")  # Ctrl-W drops a word
    editor.feed("x\x04\x7f\x04ignored")  # Ctrl-D ends input only on an empty line
    assert lines == ["done", "gr een", "  ", "tap button", None]


def test_edits_are_new_lines_marked_as_edits_when_not_a_terminal() -> None:
    out = io.StringIO()
    screen = Screen(out, tty=False)
    screen.show(["Band Coach › ⏱ Go: 10 s", "  [1] Stop"], key=7)
    screen.replace(7, ["Band Coach › ⏱ Go: 5 s", "  [1] Stop"])
    assert out.getvalue() == (
        "Band Coach › ⏱ Go: 10 s\n  [1] Stop\n✎ edited · Band Coach › ⏱ Go: 5 s\n  [1] Stop\n"
    )
    assert "\x1b" not in out.getvalue()


def test_edits_redraw_in_place_on_a_terminal() -> None:
    out = io.StringIO()
    screen = Screen(out, tty=True, size=lambda: os.terminal_size((80, 24)))
    screen.show(["Band Coach › ⏱ Go: 10 s", "  [1] Stop"], key=7)
    screen.commit_input("1")
    out.seek(0)
    out.truncate()
    screen.replace(7, ["Band Coach › ⏱ Go: 5 s", "  [1] Stop"])
    # Up over the 3 rows from the message to the prompt, clear, redraw them, prompt again.
    assert out.getvalue() == (
        "\r\x1b[J\x1b[3A\r\x1b[JBand Coach › ⏱ Go: 5 s\n  [1] Stop\nyou › 1\nyou › "
    )


def test_an_edit_scrolled_off_screen_is_printed_again_marked() -> None:
    out = io.StringIO()
    screen = Screen(out, tty=True, size=lambda: os.terminal_size((80, 6)))
    screen.show(["Band Coach › Go: 10 s"], key=7)
    for n in range(6):
        screen.show([f"line {n}"])
    out.seek(0)
    out.truncate()
    screen.replace(7, ["Band Coach › Go: 5 s"])
    assert out.getvalue() == "\r\x1b[J✎ edited · Band Coach › Go: 5 s\nyou › "


def test_long_lines_wrap_at_spaces_within_the_width() -> None:
    pieces = wrap("  " + "word " * 30, 40)
    assert all(len(piece) <= 40 for piece in pieces)
    assert " ".join(p.strip() for p in pieces).split() == ["word"] * 30
    assert wrap("short", 40) == ["short"]


def test_photos_and_documents_are_saved_and_their_path_shown(tmp_path: Path) -> None:
    photo = bot_message(
        "Your progress", [], kind="photo", file_bytes=b"\x89PNG", filename="chart.png"
    )
    path = save_file(photo, tmp_path / "chat-files", "20261123-060000")
    assert path == tmp_path / "chat-files" / "20261123-060000-chart.png"
    assert path.read_bytes() == b"\x89PNG"
    assert render_message(photo, path)[0] == f"Band Coach › [📷 photo chart.png, saved to {path}]"
    again = save_file(photo, tmp_path / "chat-files", "20261123-060000")
    assert again != path and again.read_bytes() == b"\x89PNG"
    sneaky = bot_message("", [], kind="document", file_bytes=b"a,b", filename="../../x.csv")
    assert save_file(sneaky, tmp_path / "files", "s").parent == tmp_path / "files"


# ---------------------------------------------------------------- clocks


def test_scaled_clock_runs_factor_times_the_wall_clock_from_its_start() -> None:
    wall = [100.0]
    start = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    clock = ScaledClock(10, start, monotonic=lambda: wall[0])
    assert clock() == start
    wall[0] += 1.5
    assert clock() == start + timedelta(seconds=15)
    assert clock_speed(clock) == 10.0
    assert clock_speed(system_clock) == 1.0
    assert clock_speed(ManualClock(start)) == 1.0
    with pytest.raises(ValueError):
        ScaledClock(0, start)
    with pytest.raises(ValueError):
        ScaledClock(10, datetime(2026, 11, 23, 6, 0))


def test_fast_clock_polls_session_timers_ten_times_as_often(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    app = build_application(settings, clock=ScaledClock(10))
    schedule_jobs(app)
    assert app.job_queue is not None
    (timers,) = app.job_queue.get_jobs_by_name("session-timers")
    assert timers.job.trigger.interval == timedelta(seconds=TIMER_POLL_SECONDS / 10)
    assert clock_speed(app.bot_data.clock) == 10.0


def test_the_next_chat_starts_its_clock_where_the_last_one_stopped(tmp_path: Path) -> None:
    now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    ahead = now + timedelta(minutes=40)
    path = tmp_path / "data" / "chat-clock.txt"
    assert load_instant(path) is None
    save_instant(path, ahead)
    assert load_instant(path) == ahead
    assert console_clock(True, load_instant(path), now)() >= ahead
    assert console_clock(False, ahead, now)() >= ahead
    assert console_clock(False, now - timedelta(hours=1), now) is system_clock
    path.write_text("not a time", encoding="utf-8")
    assert load_instant(path) is None


def test_the_chat_history_is_kept_and_restored_under_its_own_ids(tmp_path: Path) -> None:
    path = history_path(tmp_path / "data", 7)
    assert load_history(path, 7) == []
    keyboard = {"inline_keyboard": [[{"text": "✅ Done", "callback_data": "ws:1:0:d"}]]}
    messages = [
        FakeMessage(7, 100 + i, i % 2 == 0, 0, text=f"message {i}", file_bytes=b"x")
        for i in range(KEEP + 5)
    ]
    messages[-1].reply_markup = keyboard
    save_history(path, messages)
    kept = load_history(path, 7)
    assert [m.message_id for m in kept] == [m.message_id for m in messages[-KEEP:]]
    assert kept[-1].reply_markup == keyboard and kept[-1].file_bytes is None
    assert load_history(path, 8) == []  # another chat's history is never shown
    fake = FakeTelegram()
    fake.restore(7, kept)
    assert fake.last_keyboard_message(7).message_id == messages[-1].message_id
    for broken in ("{", '{"messages": [{"chat_id": 7}]}', '{"messages": [{"evil": 1}]}', "[]"):
        path.write_text(broken, encoding="utf-8")
        assert load_history(path, 7) == []


async def test_a_restored_chat_numbers_new_messages_after_the_kept_ones() -> None:
    fake = FakeTelegram()
    user = fake.user(7)
    fake.restore(7, [FakeMessage(7, 500, True, 0, text="kept")])
    await user.send("/start")
    assert [m.message_id for m in fake.chat(7)] == [500, 501]
    with pytest.raises(ValueError, match="only an empty chat"):
        fake.restore(7, [])
