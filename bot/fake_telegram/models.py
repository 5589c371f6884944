"""Plain records the fake keeps: messages, API calls, callback queries and uploaded files."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .wire import Files, Params


@dataclass
class FakeMessage:
    """One message in a fake private chat, sent either by the bot or by the user."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    kind: str = "text"
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    entities: list[dict[str, Any]] | None = None
    reply_markup: dict[str, Any] | None = None
    file_bytes: bytes | None = None
    filename: str | None = None
    mime_type: str | None = None
    file_id: str | None = None
    location: tuple[float, float] | None = None
    reply_to_message_id: int | None = None
    sender: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    edits: list[str | None] = field(default_factory=list)
    edit_date: int | None = None
    version: int = 0

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        """Return the inline keyboard rows (empty if the message has none)."""
        if not self.reply_markup:
            return []
        return list(self.reply_markup.get("inline_keyboard", []))

    @property
    def buttons(self) -> list[list[str]]:
        """Return the inline button labels row by row."""
        return [[str(button.get("text", "")) for button in row] for row in self.inline_keyboard]

    def find_button(self, label: str) -> dict[str, Any]:
        """Find a button by exact, then case-insensitive, then unique-substring label match."""
        flat = [button for row in self.inline_keyboard for button in row]
        for matches in (
            [b for b in flat if b.get("text") == label],
            [b for b in flat if str(b.get("text", "")).casefold() == label.casefold()],
            [b for b in flat if label.casefold() in str(b.get("text", "")).casefold()],
        ):
            if len(matches) == 1:
                return matches[0]
            if len(matches) > 1:
                raise AssertionError(
                    f"Button label {label!r} is ambiguous in message #{self.message_id}: "
                    f"{[b.get('text') for b in matches]}; all buttons: {self.buttons}"
                )
        raise AssertionError(
            f"No button {label!r} in message #{self.message_id} ({self.text!r}); "
            f"available buttons: {self.buttons}"
        )

    def button_data(self, label: str) -> str:
        """Return the callback_data of the button matching label."""
        data = self.find_button(label).get("callback_data")
        if data is None:
            raise AssertionError(f"Button {label!r} has no callback_data")
        return str(data)

    def describe(self) -> str:
        """Return a one-line human readable summary of the message."""
        who = "bot" if self.from_bot else "user"
        body = self.text if self.text is not None else ""
        if self.kind == "location" and self.location:
            body = f"<location {self.location[0]}, {self.location[1]}>"
        elif self.kind in ("photo", "document"):
            body = f"<{self.kind} {self.filename}> {body}".rstrip()
        extra = f" buttons={self.buttons}" if self.inline_keyboard else ""
        flags = " (deleted)" if self.deleted else ""
        return f"#{self.message_id} {who}: {body!r}{extra}{flags}"


@dataclass
class ApiCall:
    """One recorded Bot API call with its normalised params and the response sent."""

    method: str
    params: Params
    status: int
    response: dict[str, Any]
    files: Files = field(default_factory=dict)
    at: float = 0.0  # the fake's clock when the call was answered

    @property
    def ok(self) -> bool:
        """Return True when the call succeeded."""
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        """Return the result payload (None for errors)."""
        return self.response.get("result")


@dataclass
class CallbackQueryRecord:
    """A callback query produced by a user tap and the bot's answer to it."""

    query_id: str
    chat_id: int
    user_id: int
    message_id: int | None
    data: str
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None


@dataclass
class StoredFile:
    """An uploaded file known to the fake server by its file_id."""

    file_id: str
    file_unique_id: str
    content: bytes
    filename: str
    mime_type: str
    width: int = 0
    height: int = 0
