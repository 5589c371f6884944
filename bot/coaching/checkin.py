"""The post-session pain check-in as plain data: taps, answers, eligibility and follow-ups.

Pure: imports neither telegram nor sqlalchemy. The answers so far (pain, the areas ticked)
travel in the buttons' callback data; nothing is stored until the last tap (the weaker side),
and every tap is checked against the database first (see bot.checkins).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.coaching.progression import AREAS, SAME, CheckIn, SessionResult, SetResult
from bot.coaching.schedule import Action, is_stale
from bot.coaching.session import COMPLETED, STOPPED, Plan

PREFIX = "ci"
MAX_PAIN = 10
MAX_NOTE = 500
REANSWER_WINDOW = timedelta(hours=12)
FOLLOWUP_AFTER = timedelta(hours=2)
SIDE_CODES: dict[str, str] = {"l": "left", "r": "right", "s": SAME}
AREA_BITS: dict[str, int] = {area: 1 << i for i, area in enumerate(AREAS)}
ALL_AREAS = (1 << len(AREAS)) - 1

# Tap kinds.
PAIN = "pain"
TOGGLE = "toggle"
AREAS_DONE = "areas_done"
SIDE = "side"
NO_NOTE = "no_note"

_TAP = re.compile(
    r"^ci:(?P<sid>[0-9]{1,18}):(?:"
    r"p(?P<p>[0-9]{1,2})"
    r"|t(?P<tp>[0-9]{1,2})\.(?P<tm>[0-9]{1,2})"
    r"|d(?P<dp>[0-9]{1,2})\.(?P<dm>[0-9]{1,2})"
    r"|s(?P<sp>[0-9]{1,2})\.(?P<sm>[0-9]{1,2})\.(?P<side>[lrs])"
    r"|(?P<k>k))$"
)


@dataclass(frozen=True)
class Tap:
    """A parsed check-in button: the session, what was tapped, and the answers so far."""

    session_id: int
    kind: str
    pain: int = 0
    mask: int = 0
    side: str | None = None

    def encode(self) -> str:
        """Return the compact callback data (at most 64 bytes)."""
        head = f"{PREFIX}:{self.session_id}:"
        code = {
            PAIN: f"p{self.pain}",
            TOGGLE: f"t{self.pain}.{self.mask}",
            AREAS_DONE: f"d{self.pain}.{self.mask}",
            SIDE: f"s{self.pain}.{self.mask}.{(self.side or SAME)[0]}",
            NO_NOTE: "k",
        }[self.kind]
        data = head + code
        assert len(data.encode()) <= 64
        return data

    @property
    def areas(self) -> frozenset[str]:
        """Return the areas ticked so far."""
        return areas_of(self.mask)

    def checkin(self) -> CheckIn:
        """Return the answers as the progression engine's input."""
        return CheckIn(pain=self.pain, areas=self.areas, weaker_side=self.side)


def parse_tap(data: str) -> Tap | None:
    """Return the check-in tap in callback data, or None when it is malformed or impossible."""
    match = _TAP.match(data)
    if match is None:
        return None
    sid = int(match["sid"])
    if match["k"]:
        return Tap(sid, NO_NOTE)
    if match["p"] is not None:
        tap = Tap(sid, PAIN, int(match["p"]))
    elif match["tp"] is not None:
        tap = Tap(sid, TOGGLE, int(match["tp"]), int(match["tm"]))
    elif match["dp"] is not None:
        tap = Tap(sid, AREAS_DONE, int(match["dp"]), int(match["dm"]))
    else:
        tap = Tap(sid, SIDE, int(match["sp"]), int(match["sm"]), SIDE_CODES[match["side"]])
    if tap.pain > MAX_PAIN or tap.mask > ALL_AREAS or (tap.pain == 0 and tap.mask):
        return None
    if tap.kind == AREAS_DONE and not tap.mask:
        return None  # "that's all" needs at least one area; the keyboard never offers it empty
    return tap


def areas_of(mask: int) -> frozenset[str]:
    """Return the areas set in a bit mask."""
    return frozenset(area for area, bit in AREA_BITS.items() if mask & bit)


def toggled(mask: int, area: str) -> int:
    """Return the mask with one area switched on or off."""
    return mask ^ AREA_BITS[area]


def areas_text(areas: Iterable[str]) -> str:
    """Return areas as stored in pain_checkins.areas: comma-separated, in AREAS order."""
    chosen = set(areas)
    return ",".join(a for a in AREAS if a in chosen)


def parse_areas(text: str) -> frozenset[str]:
    """Return the areas stored by areas_text."""
    return frozenset(a for a in text.split(",") if a in AREA_BITS)


def parse_note(text: str) -> str | None:
    """Return a cleaned note, or None when it is longer than 500 characters."""
    cleaned = text.strip()
    return cleaned if len(cleaned) <= MAX_NOTE else None


def may_reanswer(answered_at: datetime, now: datetime) -> bool:
    """Return True while a check-in may still be answered again (12 hours)."""
    return now - answered_at <= REANSWER_WINDOW


def followup_due(ended: datetime) -> datetime:
    """Return when to ask about a session without a check-in, truncated to the second."""
    return (ended + FOLLOWUP_AFTER).replace(microsecond=0)


def decide_followup(
    *, active: bool, due_at: datetime, now: datetime, grace: timedelta, checked_in: bool,
    superseded: bool,
) -> Action:  # fmt: skip
    """Return whether to send a due follow-up; it does not depend on the reminder switch."""
    if not active:
        return Action.INACTIVE
    if is_stale(due_at, now, grace):
        return Action.STALE
    if checked_in:
        return Action.CHECKED_IN
    if superseded:
        return Action.SUPERSEDED
    return Action.SEND


@dataclass(frozen=True)
class Logged:
    """A logged set as the check-in needs it."""

    position: int
    actual: int


def session_result(plan: Plan, logged: Sequence[Logged], status: str) -> SessionResult:
    """Return the progression input for a session: every planned set, 0 where none was logged."""
    done = {s.position: s.actual for s in logged}
    sets = tuple(
        SetResult(step.exercise, step.side, step.target, done.get(step.position, 0))
        for step in plan.steps
    )
    return SessionResult(
        routine=plan.routine,
        band=plan.band,
        finished=status == COMPLETED,
        stopped=status == STOPPED,
        sets=sets,
    )
