"""Inline keyboards as typed keys, and what a typed line means: a tap, a message or a hint."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.console import texts
from bot.fake_telegram import FakeMessage
from bot.fake_telegram.formatting import utf16_len

MAX_MESSAGE_LENGTH = 4096
QUIT_COMMANDS = frozenset({"/quit", "/exit"})
# A label that is just a number, maybe ticked or with a note: "7", "✓ 2 (suggested)".
# A label that is a number: "7", "✓ 2 rounds (suggested)", "0 · none", "10 · worst".
_NUMBER_LABEL = re.compile(r"\W*(\d{1,4})\s*(?:rounds?|·\s*\w+)?\s*(?:\([^)]*\))?\s*")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Button:
    """An inline button as the console shows it: the key that taps it and its label."""

    key: str | None  # what to type to tap it; None: type the label
    label: str
    data: str | None  # callback_data; None for link buttons
    url: str | None = None


@dataclass(frozen=True)
class Tap:
    """Tap a button of a message."""

    message_id: int
    button: Button


@dataclass(frozen=True)
class Send:
    """Send the text as a message from the user."""

    text: str


@dataclass(frozen=True)
class Hint:
    """Send nothing; show the user a console line instead."""

    text: str


@dataclass(frozen=True)
class Quit:
    """Leave the chat."""


Action = Tap | Send | Hint | Quit


def _number_in(label: str) -> str | None:
    """Return the number a label consists of ("✓ 2 rounds (suggested)" → "2"), else None."""
    match = _NUMBER_LABEL.fullmatch(label.strip())
    return str(int(match[1])) if match else None


def keyed_buttons(message: FakeMessage) -> list[list[Button]]:
    """Return a message's buttons row by row with the key that taps each.

    Buttons are numbered 1, 2, 3… in reading order. When labels are themselves numbers (how
    many reps, a pain score) the number on the button is its key, so typing 7 taps "7".
    """
    rows = message.inline_keyboard
    flat = [button for row in rows for button in row]
    numbers = [_number_in(str(button.get("text", ""))) for button in flat]
    found = [n for n in numbers if n is not None]
    by_label = bool(found) and len(set(found)) == len(found)
    keys = iter(numbers if by_label else [str(i) for i in range(1, len(flat) + 1)])
    return [
        [
            Button(
                key=next(keys),
                label=str(button.get("text", "")),
                data=button.get("callback_data"),
                url=button.get("url"),
            )
            for button in row
        ]
        for row in rows
    ]


def _words(text: str) -> str:
    """Return text reduced to lower-case words, for forgiving label matches."""
    return " ".join(re.findall(r"\w+", text.casefold()))


def _names(label: str) -> set[str]:
    """Return what typing a label may look like: in full, or without its (note)."""
    names = {_words(label), _words(re.sub(r"\([^)]*\)", " ", label))}
    return {name for name in names if name}


def _tap(message: FakeMessage, button: Button) -> Action:
    """Return the tap of a button, or a hint for a link button."""
    if button.data is None:
        return Hint(texts.LINK.format(label=button.label, url=button.url or "a link"))
    return Tap(message.message_id, button)


def resolve(line: str, keyboard: FakeMessage | None) -> Action:
    """Return what a typed line means, given the latest message with buttons (if any)."""
    text = line.strip()
    if not text:
        return Hint(texts.EMPTY)
    if text.casefold() in QUIT_COMMANDS:
        return Quit()
    if utf16_len(text) > MAX_MESSAGE_LENGTH:
        return Hint(texts.TOO_LONG.format(limit=MAX_MESSAGE_LENGTH))
    if text.startswith("/") or keyboard is None:
        return Send(text)
    buttons = [button for row in keyed_buttons(keyboard) for button in row]
    key = str(int(text)) if _DIGITS.fullmatch(text) else text
    for button in buttons:
        if button.key == key:
            return _tap(keyboard, button)
    typed = _words(text)
    named = [button for button in buttons if typed and typed in _names(button.label)]
    if not named and typed:  # the start of a word of one label: "snooze", "none", "worst"
        named = [b for b in buttons if f" {typed}" in f" {_words(b.label)}"]
    if len(named) == 1:
        return _tap(keyboard, named[0])
    if named:
        return Hint(texts.AMBIGUOUS.format(text=text))
    numbered = all(b.key == str(i) for i, b in enumerate(buttons, start=1))
    if _DIGITS.fullmatch(text) and numbered:
        return Hint(texts.NO_SUCH_BUTTON.format(number=text, last=len(buttons)))
    return Send(text)
