"""Typed input: a small line editor for terminals, or plain lines from a pipe."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import termios
import threading
import tty
from collections.abc import Callable
from typing import BinaryIO, Protocol

from bot.console.screen import Screen

LineSink = Callable[[str | None], None]  # a typed line, or None at end of input
CTRL_D = "\x04"
CTRL_U = "\x15"
CTRL_W = "\x17"
BACKSPACES = ("\x7f", "\b")


class InputSource(Protocol):
    """Something that feeds typed lines to a LineSink until stopped."""

    echoes: bool  # True when it already showed the line as typed

    def start(self) -> None:
        """Begin reading."""

    def stop(self) -> None:
        """Stop reading and restore whatever was changed."""


class LineEditor:
    """Edit one line at a time on a terminal in cbreak mode, echoing through the Screen.

    The kernel's own line editing cannot redraw the half-typed line after the bot prints
    something, so keys are read one by one: printable text, Backspace, Ctrl-U, Ctrl-W, Enter,
    and Ctrl-D on an empty line (end of input). Escape sequences (arrow keys) are ignored.
    Ctrl-C still raises SIGINT.
    """

    echoes = True

    def __init__(self, screen: Screen, sink: LineSink, fd: int) -> None:
        """Read from terminal file descriptor `fd`; hand finished lines to `sink`."""
        self.screen = screen
        self.sink = sink
        self.fd = fd
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._saved: list[object] | None = None
        self._escape = ""  # "" outside an escape sequence, else what it has read so far
        self._after_cr = False
        self._done = False

    def start(self) -> None:
        """Put the terminal in cbreak mode and read keys as the event loop sees them."""
        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd, termios.TCSANOW)
        asyncio.get_running_loop().add_reader(self.fd, self._on_readable)

    def stop(self) -> None:
        """Stop reading and restore the terminal's previous mode."""
        with contextlib.suppress(RuntimeError, ValueError):
            asyncio.get_running_loop().remove_reader(self.fd)
        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def _on_readable(self) -> None:
        """Read what the terminal has and feed it to the editor."""
        try:
            data = os.read(self.fd, 4096)
        except OSError:
            data = b""
        if not data:
            self._end()
            return
        self.feed(self._decoder.decode(data))

    def _end(self) -> None:
        """Report the end of input once."""
        if not self._done:
            self._done = True
            self.sink(None)

    def _in_escape(self, char: str) -> bool:
        """Consume one character of an escape sequence; return True while inside one."""
        if not self._escape:
            if char != "\x1b":
                return False
            self._escape = char
            return True
        self._escape += char
        if len(self._escape) == 2 and char in "[O":
            return True
        if self._escape[1] == "[" and len(self._escape) > 2 and not "@" <= char <= "~":
            return True
        self._escape = ""
        return True

    def feed(self, text: str) -> None:
        """Apply typed characters: edit the line, or finish it on Enter."""
        typed = ""
        for char in text:
            if self._in_escape(char):
                continue
            if char == "\n" and self._after_cr:
                self._after_cr = False
                continue
            self._after_cr = char == "\r"
            if char.isprintable() or char == "\t":
                typed += " " if char == "\t" else char
                continue
            if typed:
                self.screen.type(typed)
                typed = ""
            self._control(char)
        if typed:
            self.screen.type(typed)

    def _control(self, char: str) -> None:
        """Apply one control key."""
        buffer = self.screen.buffer
        if char in "\r\n":
            self.screen.commit_input(buffer)
            self.sink(buffer)
        elif char in BACKSPACES:
            self.screen.set_buffer(buffer[:-1])
        elif char == CTRL_U:
            self.screen.set_buffer("")
        elif char == CTRL_W:
            self.screen.set_buffer(_drop_word(buffer))
        elif char == CTRL_D and not buffer:
            self._end()


def _drop_word(text: str) -> str:
    """Return text without its last word (what Ctrl-W does)."""
    stripped = text.rstrip()
    return stripped[: stripped.rfind(" ") + 1]


class PipeReader:
    """Read lines from a non-terminal stdin on a daemon thread, so exit never waits on it."""

    echoes = False

    def __init__(self, sink: LineSink, stream: BinaryIO) -> None:
        """Read from binary `stream` and hand each line to `sink`."""
        self.sink = sink
        self.stream = stream
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False

    def start(self) -> None:
        """Start the reading thread."""
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._read, name="chat-stdin", daemon=True).start()

    def stop(self) -> None:
        """Ignore anything read from now on."""
        self._stopped = True

    def _read(self) -> None:
        """Forward every line, then None at end of input (runs on the thread)."""
        for raw in self.stream:
            if not self._send(raw.decode("utf-8", "replace").rstrip("\r\n")):
                return
        self._send(None)

    def _send(self, line: str | None) -> bool:
        """Hand a line to the event loop; False once the loop is gone (the chat is over)."""
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._deliver, line)
        except RuntimeError:
            return False
        return True

    def _deliver(self, line: str | None) -> None:
        """Forward one line on the event loop, unless reading has stopped."""
        if not self._stopped:
            self.sink(line)
