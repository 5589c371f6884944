"""The transcript on the terminal: blocks of lines, edits redrawn in place, and the prompt."""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from bot.console import texts
from bot.console.render import display_width, mark_edit, user_line, wrap

PROMPT = f"{texts.YOU}{texts.ARROW}"
# How much transcript is remembered for redrawing, in screen heights; older blocks are off
# screen, so an edit to them is printed anew instead.
KEEP_SCREENS = 2


@dataclass
class _Block:
    """Lines printed together; `key` is the message id they show, if any."""

    key: int | None
    lines: list[str] = field(default_factory=list)


def is_terminal(stream: TextIO) -> bool:
    """Return True when stream is a terminal that understands ANSI cursor movement."""
    return stream.isatty() and os.environ.get("TERM") != "dumb"


class Screen:
    """Print the chat; on a terminal redraw edited messages in place, else mark each edit."""

    def __init__(
        self,
        out: TextIO,
        *,
        tty: bool,
        size: Callable[[], os.terminal_size] = shutil.get_terminal_size,
    ) -> None:
        """Write to `out`, with cursor movement only when `tty` is True."""
        self.out = out
        self.tty = tty
        self.buffer = ""
        self._size = size
        self._blocks: list[_Block] = []
        self._prompt_shown = False

    # ------------------------------------------------------------ what callers use

    def show(self, lines: Sequence[str], key: int | None = None) -> None:
        """Print a block of lines, remembered under `key` so it can be edited later."""
        if not self.tty:
            self._write("".join(f"{line}\n" for line in lines))
            self.out.flush()
            return
        self._hide_prompt()
        block = _Block(key, list(lines))
        self._blocks.append(block)
        self._write_block(block)
        self._forget_old()
        self._show_prompt()

    def replace(self, key: int, lines: Sequence[str]) -> None:
        """Show a new version of block `key`: in place if it is on screen, else marked anew."""
        index = self._find(key) if self.tty else None
        if index is None:
            self.show(mark_edit(lines), key)
            return
        columns, rows = self._columns_rows()
        height = sum(self._height(block, columns) for block in self._blocks[index:])
        if height + self._prompt_height(columns) > rows:
            self._blocks[index].key = None
            self.show(mark_edit(lines), key)
            return
        self._hide_prompt()
        self._write(f"\x1b[{height}A\r\x1b[J")
        self._blocks[index].lines = list(lines)
        for block in self._blocks[index:]:
            self._write_block(block)
        self._show_prompt()

    def commit_input(self, text: str) -> None:
        """Print what the user entered as a transcript line and empty the prompt."""
        self.buffer = ""
        self.show([user_line(text)])

    def type(self, text: str) -> None:
        """Add typed characters to the prompt line."""
        self.buffer += text
        if self.tty and self._prompt_shown:
            self._write(text)
            self.out.flush()

    def set_buffer(self, text: str) -> None:
        """Replace what is typed on the prompt line (after a backspace, say)."""
        if not self.tty:
            self.buffer = text
            return
        self._hide_prompt()
        self.buffer = text
        self._show_prompt()

    def close(self) -> None:
        """Remove the prompt so the shell's own prompt starts on a clean line."""
        if self.tty:
            self._hide_prompt()
            self.out.flush()

    # ------------------------------------------------------------ drawing

    def _write(self, text: str) -> None:
        """Write raw text (no flush)."""
        self.out.write(text)

    def _columns_rows(self) -> tuple[int, int]:
        """Return the terminal's current columns and rows."""
        size = self._size()
        return max(size.columns, 20), max(size.lines, 5)

    def _pieces(self, block: _Block, columns: int) -> list[str]:
        """Return a block's lines wrapped to the terminal width (one screen row each)."""
        return [piece for line in block.lines for piece in wrap(line, columns - 2)]

    def _height(self, block: _Block, columns: int) -> int:
        """Return how many screen rows a block takes."""
        return len(self._pieces(block, columns))

    def _write_block(self, block: _Block) -> None:
        """Write a block's rows, each ending with a newline."""
        columns, _ = self._columns_rows()
        self._write("".join(f"{piece}\n" for piece in self._pieces(block, columns)))

    def _prompt_height(self, columns: int) -> int:
        """Return how many screen rows the prompt and the typed text take."""
        return max(1, math.ceil(display_width(PROMPT + self.buffer) / columns))

    def _show_prompt(self) -> None:
        """Draw the prompt and the typed text at the cursor (a fresh line)."""
        self._write(PROMPT + self.buffer)
        self._prompt_shown = True
        self.out.flush()

    def _hide_prompt(self) -> None:
        """Erase the prompt rows and leave the cursor where the prompt began."""
        if not self._prompt_shown:
            return
        columns, _ = self._columns_rows()
        up = self._prompt_height(columns) - 1
        self._write((f"\x1b[{up}A" if up else "") + "\r\x1b[J")
        self._prompt_shown = False

    def _find(self, key: int) -> int | None:
        """Return the index of the block showing message `key`, if still remembered."""
        for index in range(len(self._blocks) - 1, -1, -1):
            if self._blocks[index].key == key:
                return index
        return None

    def _forget_old(self) -> None:
        """Drop blocks so far up that they can no longer be redrawn."""
        columns, rows = self._columns_rows()
        budget = KEEP_SCREENS * rows
        keep = len(self._blocks)
        while keep > 0 and budget >= self._height(self._blocks[keep - 1], columns):
            budget -= self._height(self._blocks[keep - 1], columns)
            keep -= 1
        del self._blocks[:keep]
