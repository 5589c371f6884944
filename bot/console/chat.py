"""The chat console: the real Application, its handlers and JobQueue, before a fake Telegram.

Updates go straight from the fake to `Application.process_update` (as in the test fixtures),
so each typed line is handled before the next one, with no polling delay; the JobQueue runs
as in production, so timers and reminders arrive on their own. The fake calls back on every
change, and the chat is redrawn right after.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from telegram import Update

from bot.app import build_application
from bot.clock import Clock
from bot.coaching.catalogue import CatalogueError
from bot.config import DEFAULT_API_BASE_URL, ConfigError, Settings
from bot.console import texts
from bot.console.history import history_path, load_history, save_history
from bot.console.render import note_line, render_message, save_file, user_line
from bot.console.screen import Screen, is_terminal
from bot.console.taps import Hint, Quit, Send, Tap, resolve
from bot.console.terminal import InputSource, LineEditor, PipeReader
from bot.console.timeline import console_clock, load_instant, save_instant
from bot.fake_telegram import DEFAULT_TOKEN, FakeMessage, FakeTelegram, fake_request
from bot.logs import configure_logging, redact
from bot.membership import returning

logger = logging.getLogger(__name__)

DEFAULT_USER_ID = 1
FILES_DIR = Path("chat-files")
LOG_PATH = Path("data") / "chat.log"
CLOCK_PATH = Path("data") / "chat-clock.txt"


@dataclass(frozen=True)
class ChatOptions:
    """Who is chatting, and how fast the app clock runs."""

    user_id: int = DEFAULT_USER_ID
    name: str = "Friend"
    fast: bool = False
    files_dir: Path = FILES_DIR


def default_name() -> str:
    """Return the login name to greet, or a friendly stand-in."""
    return os.environ.get("USER") or os.environ.get("USERNAME") or "Friend"


def chat_settings(settings: Settings) -> Settings:
    """Return the settings with the fake's token; no request ever leaves the process."""
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(DEFAULT_TOKEN),
            "telegram_api_base_url": DEFAULT_API_BASE_URL,
        }
    )


class ChatConsole:
    """One user chatting with the real bot through the terminal."""

    def __init__(
        self,
        settings: Settings,
        options: ChatOptions,
        *,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
    ) -> None:
        """Build the fake Telegram, the Application in front of it, and the screen."""
        self.options = options
        self.clock: Clock = console_clock(options.fast, load_instant(CLOCK_PATH))
        self.settings = chat_settings(settings)
        # Message ids continue past earlier runs, so a stored id never names a new message.
        self.fake = FakeTelegram(
            clock=lambda: self.clock().timestamp(), first_message_id=time.time_ns() // 1_000_000
        )
        self.app = build_application(
            self.settings,
            request=fake_request(self.fake),
            get_updates_request=fake_request(self.fake),
            clock=self.clock,
        )
        self.user = self.fake.user(options.user_id, first_name=options.name)
        self.history_path = history_path(CLOCK_PATH.parent, options.user_id)
        self.fake.restore(self.user.chat_id, load_history(self.history_path, self.user.chat_id))
        self._replayed = False
        self.fake.on_update = self._deliver
        self.fake.on_change = self._redraw_soon
        self.stdin = stdin
        self.screen = Screen(stdout, tty=is_terminal(stdout))
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._shown: dict[int, list[str]] = {}
        self._saved: dict[int, Path] = {}
        self._seen_version = self.fake.version  # kept messages are drawn by _replay
        self._redraw_pending = False

    async def run(self) -> None:
        """Start the app, chat until /quit or end of input, then stop the app cleanly."""
        app = self.app
        await app.initialize()
        self._replayed = self._replay()  # before any job can edit a kept message
        try:
            assert app.post_init is not None
            await app.post_init(app)  # run_polling would call it; we do not poll
            await app.start()
            try:
                await self._converse()
            finally:
                await app.stop()
                assert app.post_stop is not None
                await app.post_stop(app)
        finally:
            self.fake.on_change = None  # nothing is drawn once the chat is over
            await app.shutdown()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)
            save_instant(CLOCK_PATH, self.clock())
            save_history(self.history_path, self.fake.history(self.user.chat_id))
            self.screen.close()

    async def _converse(self) -> None:
        """Show the banner, then handle typed lines; the chat redraws as the fake changes."""
        where = await returning(self.app.bot_data, self.user.user_id)
        self.screen.show([note_line(line) for line in self._banner(where, self._replayed)])
        source = self._input_source()
        source.start()
        try:
            while (line := await self.lines.get()) is not None:
                if not source.echoes:
                    self.screen.commit_input(line)
                if not await self._handle(line):
                    break
        finally:
            source.stop()
        self._sync()
        self.fake.on_change = None
        self.screen.show([note_line(texts.BYE)])

    def _replay(self) -> bool:
        """Show the messages kept from the last chat, as Telegram would; True if there were any."""
        earlier = [m for m in self.fake.history(self.user.chat_id) if not m.deleted]
        if earlier:
            self.screen.show([note_line(texts.EARLIER)])
        for message in earlier:
            if message.from_bot:
                self._draw(message)
            elif message.text:
                self.screen.show([user_line(message.text)])
        return bool(earlier)

    def _banner(self, where: str, replayed: bool = False) -> list[str]:
        """Return the opening lines: who you are, where data lives, how to type, what next."""
        url = make_url(self.settings.async_database_url()).render_as_string(hide_password=True)
        first, usage = texts.BANNER
        lines = [first.format(name=self.options.name, user_id=self.user.user_id, database=url)]
        lines.append(usage)
        if self.options.fast:
            lines.append(texts.FAST)
        greeting = texts.WELCOME_BACK_ABOVE.get(where) if replayed else None
        return [*lines, (greeting or texts.WELCOME_BACK[where]).format(name=self.options.name)]

    def _input_source(self) -> InputSource:
        """Return a line editor on a terminal, or a line reader for piped input."""
        if self.screen.tty and self.stdin.isatty():
            return LineEditor(self.screen, self.lines.put_nowait, self.stdin.fileno())
        return PipeReader(self.lines.put_nowait, self.stdin.buffer)

    # ------------------------------------------------------------ input

    async def _deliver(self, data: dict[str, Any]) -> None:
        """Hand an update from the fake to the Application, as Telegram would."""
        await self.app.process_update(Update.de_json(data, self.app.bot))

    def _keyboard(self) -> FakeMessage | None:
        """Return the latest bot message that has buttons (what a number taps)."""
        for message in reversed(self.fake.bot_messages(self.user.chat_id)):
            if message.inline_keyboard:
                return message
        return None

    async def _handle(self, line: str) -> bool:
        """Act on one typed line; return False when the user wants to leave."""
        action = resolve(line, self._keyboard())
        try:
            if isinstance(action, Quit):
                return False
            if isinstance(action, Hint):
                self.screen.show([note_line(action.text)])
            elif isinstance(action, Send):
                await self.user.send(action.text)
            elif isinstance(action, Tap) and action.button.data is not None:
                self.screen.show([note_line(texts.TAPPED.format(label=action.button.label))])
                update = await self.user.tap_data(action.button.data, action.message_id)
                self._sync()
                self._show_answer(str(update["callback_query"]["id"]))
        except Exception:
            logger.exception("The console could not handle a typed line")
            self.screen.show([note_line(texts.CONSOLE_ERROR.format(log=LOG_PATH))])
        self._sync()
        return True

    def _show_answer(self, query_id: str) -> None:
        """Show the bot's pop-up answer to a tap, if it gave one."""
        record = self.fake.callback_queries.get(query_id)
        if record is None or not record.text:
            return
        template = texts.ALERT if record.show_alert else texts.TOAST
        self.screen.show([template.format(bot=texts.BOT, arrow=texts.ARROW, text=record.text)])

    # ------------------------------------------------------------ output

    def _redraw_soon(self) -> None:
        """Schedule one redraw after the fake's current change (many changes, one redraw)."""
        if not self._redraw_pending:
            self._redraw_pending = True
            asyncio.get_running_loop().call_soon(self._redraw)

    def _redraw(self) -> None:
        """Draw what changed; a drawing bug is logged, never shown as a traceback."""
        self._redraw_pending = False
        try:
            self._sync()
        except Exception:
            logger.exception("The console could not draw the chat")

    def _sync(self) -> None:
        """Print new bot messages and redraw edited ones, in the order they changed."""
        changed = [
            message
            for message in self.fake.history(self.user.chat_id)
            if message.from_bot and message.version > self._seen_version
        ]
        for message in sorted(changed, key=lambda m: m.version):
            self._seen_version = max(self._seen_version, message.version)
            self._draw(message)

    def _draw(self, message: FakeMessage) -> None:
        """Show one bot message, or its new version when it was edited."""
        key = message.message_id
        if key not in self._shown and message.file_bytes and not message.deleted:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            try:
                self._saved[key] = save_file(message, self.options.files_dir, stamp)
            except OSError:
                logger.exception("Could not save the file of message %s", key)
        lines = render_message(message, self._saved.get(key))
        previous = self._shown.get(key)
        if previous == lines:
            return
        self._shown[key] = lines
        if previous is None:
            self.screen.show(lines, key)
        else:
            self.screen.replace(key, lines)


def run_chat(settings: Settings, options: ChatOptions) -> int:
    """Run the console until /quit, Ctrl-D or Ctrl-C; return the exit status."""
    LOG_PATH.parent.mkdir(parents=True, exist_ok=True)
    # The terminal is the chat: library logs and warnings go to a file, never to the screen.
    configure_logging(settings.log_level, secrets=(DEFAULT_TOKEN,), path=LOG_PATH)
    logging.captureWarnings(True)

    async def chat() -> None:
        """Build the console inside the event loop and run it."""
        await ChatConsole(settings, options).run()

    try:
        asyncio.run(chat())
    except KeyboardInterrupt:
        print(note_line(texts.INTERRUPTED))
        return 130
    except (ConfigError, CatalogueError):
        raise
    except Exception as exc:
        logger.exception("bandcoach chat stopped")
        error = redact(f"{type(exc).__name__}: {exc}")
        print(texts.CRASHED.format(error=error, log=LOG_PATH), file=sys.stderr)
        return 1
    return 0
