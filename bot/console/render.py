"""Bot messages as terminal lines: who said it, the text, saved files and numbered buttons."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from bot.console import texts
from bot.console.taps import Button, keyed_buttons
from bot.fake_telegram import FakeMessage

INDENT = "  "
BUTTON_GAP = "   "
MEDIA_KINDS = {"photo": "📷 photo", "document": "📄 document"}
# Zero-width characters that join or restyle emoji (U+FE0F is counted apart, see char_width).
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\ufe0e")


def _button_text(button: Button) -> str:
    """Return one button as shown: "[2] Done", "[7]" for a number, "[Back]" without a key."""
    if button.key is None:
        return f"[{button.label}]"
    if button.label.strip() == button.key:
        return f"[{button.key}]"
    return f"[{button.key}] {button.label}"


def button_lines(message: FakeMessage) -> list[str]:
    """Return a message's inline keyboard, one line per row, each button with its key."""
    return [
        _printable(INDENT + BUTTON_GAP.join(_button_text(button) for button in row))
        for row in keyed_buttons(message)
    ]


def _printable(text: str) -> str:
    """Return text without control characters (escape sequences would move the cursor)."""
    return "".join(
        " " if char == "\t" else char
        for char in text
        if char in "\n\t" or unicodedata.category(char) != "Cc"
    )


def render_message(message: FakeMessage, saved: Path | None = None) -> list[str]:
    """Return the lines that show a bot message: the sender, its text, a saved file, buttons."""
    head = f"{texts.BOT}{texts.ARROW}"
    if message.deleted:
        return [head + texts.DELETED]
    body: list[str] = []
    if message.kind in MEDIA_KINDS:
        where = texts.SAVED.format(path=saved) if saved is not None else "not saved"
        body.append(f"[{MEDIA_KINDS[message.kind]} {message.filename}, {where}]")
    if message.text:
        body.extend(_printable(message.text).split("\n"))
    body = body or [""]
    lines = [head + body[0], *(INDENT + line if line else "" for line in body[1:])]
    return lines + button_lines(message)


def mark_edit(lines: Sequence[str]) -> list[str]:
    """Return a message's lines marked as a new version of an earlier message."""
    return [texts.EDITED + lines[0], *lines[1:]] if lines else [texts.EDITED.rstrip()]


def user_line(text: str) -> str:
    """Return the transcript line for something the user typed."""
    return f"{texts.YOU}{texts.ARROW}{text}"


def note_line(text: str) -> str:
    """Return a line the console (not the bot) says."""
    return texts.NOTE + text


def save_file(message: FakeMessage, folder: Path, stamp: str) -> Path:
    """Write a photo's or document's bytes into folder under a fresh name; return the path."""
    raw = Path(message.filename or f"{message.kind}.bin").name
    name = re.sub(r"[^\w.-]+", "_", raw).lstrip(".") or f"{message.kind}.bin"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp}-{name}"
    counter = 1
    while path.exists():
        counter += 1
        path = folder / f"{stamp}-{counter}-{name}"
    path.write_bytes(message.file_bytes or b"")
    return path


# ---------------------------------------------------------------- terminal widths


def char_width(char: str) -> int:
    """Return how many terminal columns a character most likely takes (0, 1 or 2)."""
    if char == "\ufe0f":
        return 1  # emoji presentation: the symbol before it is drawn 2 columns wide
    if char in _ZERO_WIDTH or unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Return how many terminal columns text most likely takes."""
    return sum(char_width(char) for char in text)


def _wrap_width(char: str) -> int:
    """Return a character's width for wrapping, erring wide: terminals draw symbols variously."""
    return 2 if unicodedata.category(char) == "So" else char_width(char)


def _fit(text: str, width: int) -> int:
    """Return how many leading characters of text surely fit in width columns."""
    used = 0
    for index, char in enumerate(text):
        used += _wrap_width(char)
        if used > width:
            return index
    return len(text)


def wrap(line: str, width: int) -> list[str]:
    """Split a line into pieces that fit in width columns, at spaces where possible."""
    width = max(width, 10)
    hang = " " * min(len(line) - len(line.lstrip(" ")) + 2, width // 2)
    pieces: list[str] = []
    rest = line
    while _fit(rest, width) < len(rest):
        cut = _fit(rest, width)
        space = rest.rfind(" ", 0, cut + 1)
        if space > len(rest) - len(rest.lstrip(" ")):
            pieces.append(rest[:space].rstrip())
            rest = hang + rest[space + 1 :].lstrip(" ")
        else:
            pieces.append(rest[:cut])
            rest = hang + rest[cut:]
    pieces.append(rest)
    return pieces
