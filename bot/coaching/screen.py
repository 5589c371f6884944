"""What a service asks delivery to show, as plain data: screens, buttons and replies.

Pure: no telegram import. Delivery renders these to Telegram; the database keeps them as JSON
for the live messages it converges.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

MAX_CALLBACK_BYTES = 64


class LiveRef(Protocol):
    """A live message a service changed: its id (storage hands delivery its new screen too)."""

    @property
    def id(self) -> int:
        """Return the live message's row id."""
        ...


@dataclass(frozen=True)
class Button:
    """An inline button: its label and its callback data (1-64 bytes, checked here)."""

    label: str
    data: str

    def __post_init__(self) -> None:
        """Refuse callback data Telegram would reject."""
        if not 1 <= len(self.data.encode()) <= MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data must be 1-64 bytes: {self.data!r}")


Keyboard = tuple[tuple[Button, ...], ...]


def keyboard(rows: Iterable[Iterable[Button]]) -> Keyboard:
    """Return rows of buttons as an immutable keyboard, dropping empty rows."""
    return tuple(row for row in (tuple(r) for r in rows) if row)


def rows_of(buttons: Sequence[Button], columns: int) -> Keyboard:
    """Split buttons into rows of `columns`."""
    return keyboard(buttons[i : i + columns] for i in range(0, len(buttons), columns))


@dataclass(frozen=True)
class Screen:
    """A message as the member should see it: text and buttons."""

    text: str
    keyboard: Keyboard = ()

    def to_json(self) -> dict[str, Any]:
        """Return the screen as JSON-serialisable data."""
        rows = [[[b.label, b.data] for b in row] for row in self.keyboard]
        return {"text": self.text, "buttons": rows}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Screen:
        """Rebuild a screen stored by to_json."""
        rows = data.get("buttons") or []
        return cls(str(data["text"]), keyboard((Button(lb, d) for lb, d in r) for r in rows))


@dataclass(frozen=True)
class Attachment:
    """A file to send once: a photo (a PNG chart) or a document (a CSV), with its caption."""

    kind: str  # PHOTO or DOCUMENT
    filename: str
    data: bytes = field(repr=False)
    caption: str = ""
    keyboard: Keyboard = ()


PHOTO, DOCUMENT = "photo", "document"


@dataclass(frozen=True)
class Chat:
    """Who acted, in which chat, and on which message (for a button tap)."""

    user_id: int
    chat_id: int
    message_id: int | None = None


@dataclass(frozen=True)
class Reply:
    """What an update should show: a toast on the tapped button, edits, new messages.

    `live` lists the live messages (kept in the database and converged by delivery) that the
    service changed in its transaction; `edit`, `send` and then `files` are shown once, best
    effort.
    """

    answer: str | None = None
    alert: bool = False
    edit: Screen | None = None
    send: tuple[Screen, ...] = ()
    live: tuple[LiveRef, ...] = field(default=())
    files: tuple[Attachment, ...] = ()

    @classmethod
    def text(cls, text: str, *buttons: Sequence[Button]) -> Reply:
        """Return a reply that sends one new message."""
        return cls(send=(Screen(text, keyboard(buttons)),))
