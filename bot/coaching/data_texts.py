"""What /deletedata says and its buttons. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from bot.coaching.screen import Button, Keyboard, keyboard

DATA = "dd"
YES, NO = "yes", "no"

CONFIRM = (
    "🗑 Delete all your data?\n\n"
    "This deletes everything I keep about you: your settings and reminders, your plan, "
    "{sessions} and {sets}, and {checkins}. Pending reminders are cancelled. "
    "It can't be undone.\n\n"
    "Want a copy first? Send /export before you tap Delete."
)
DELETE = "🗑 Yes, delete everything"
KEEP = "Keep my data"
DELETED = (
    "🗑 Done: everything I kept about you is deleted and no more reminders will come. "
    "Send /start if you ever want to begin again."
)
KEPT = "👍 Nothing deleted. Your data stays as it is."
OUTDATED = "That button is from before your data was deleted or set up again; nothing changed."
NOTHING = "There's no data about you to delete. Send /start to set up Band Coach."


@dataclass(frozen=True)
class DataTap:
    """A tap on the /deletedata question: dd:<yes|no>:<the member's sign-up key>."""

    answer: str
    key: int  # users.signup_key, random per sign-up: a button outlives no deletion

    def encode(self) -> str:
        """Return the callback data."""
        return f"{DATA}:{self.answer}:{self.key}"

    @classmethod
    def parse(cls, data: str) -> DataTap | None:
        """Return the tap in callback data, or None if it is not one this version makes."""
        parts = data.split(":")
        if len(parts) != 3 or parts[0] != DATA or parts[1] not in (YES, NO):
            return None
        if not (parts[2].isascii() and parts[2].isdigit() and len(parts[2]) <= 15):
            return None
        return cls(parts[1], int(parts[2]))


def confirm_keyboard(key: int) -> Keyboard:
    """Return Delete and Keep for the member whose sign-up key is `key`."""
    return keyboard(
        [
            [Button(DELETE, DataTap(YES, key).encode())],
            [Button(KEEP, DataTap(NO, key).encode())],
        ]
    )
