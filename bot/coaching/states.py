"""Stored states, each defined once: session status and phase, slot status, awaited input.

Pure: the values are what the database holds, so changing one needs a migration.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SessionStatus(StrEnum):
    """Where a guided session stands (workout_sessions.status)."""

    ACTIVE = "active"
    COMPLETED = "completed"
    STOPPED = "stopped"
    ABANDONED = "abandoned"


class Phase(StrEnum):
    """What a session's current step waits for (workout_sessions.phase) when no timer runs.

    A running countdown is stored as "work:<offset>" or "rest:<offset>" (see session.Timer).
    """

    STEP = "step"
    FEWER = "fewer"


class SlotStatus(StrEnum):
    """How a reminder or follow-up slot ended (reminder_slots.status)."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"
    SNOOZED = "snoozed"
    STARTED = "started"


class Awaiting(StrEnum):
    """What typed text means for a member right now (users.awaiting, before any ':')."""

    SESSION = "session"  # mid warm-up: point to the buttons
    COUNT = "count"  # how many, after Fewer
    NOTE = "ci_note"  # an optional note after a check-in
    REMINDER_TIME = "reminder_time"
    REMINDER_ZONE = "reminder_tz"


@dataclass(frozen=True)
class Awaited:
    """Awaited input with what it is about: kind, session and plan position."""

    kind: Awaiting
    session_id: int | None = None
    position: int | None = None

    def encode(self) -> str:
        """Return the value stored in users.awaiting (at most 32 characters)."""
        parts = [
            self.kind.value,
            *(str(p) for p in (self.session_id, self.position) if p is not None),
        ]
        return ":".join(parts)

    @classmethod
    def decode(cls, value: str | None) -> Awaited | None:
        """Return the awaited input stored in users.awaiting, or None if unset or malformed."""
        if not value:
            return None
        kind, *numbers = value.split(":")
        if kind not in Awaiting.__members__.values() or len(numbers) > 2:
            return None
        if not all(n.isdigit() and len(n) <= 18 for n in numbers):
            return None
        ids = [int(n) for n in numbers] + [None, None]
        return cls(Awaiting(kind), ids[0], ids[1])
