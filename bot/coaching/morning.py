"""The next-morning check: how the back feels the morning after a session with pain or a raise.

Pure: imports neither telegram nor sqlalchemy. The pain-monitoring model (Silbernagel et al.
2007) accepts pain during exercise only if it has settled by the next morning, so the morning
after a session that had any pain or raised anything, one question asks how the back is:
better than usual, as usual, or worse. "Worse" undoes that session's increases and deloads one
step; no answer changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.coaching.catalogue import Catalogue
from bot.coaching.profile import BANDS
from bot.coaching.progression import (
    Prescription,
    deload,
    move_line,
    routine_exercises,
    share,
)
from bot.coaching.schedule import Action, is_stale
from bot.coaching.screen import Button, Keyboard, Screen, keyboard

PREFIX = "mo"
MORNING_AT = time(9, 0)  # when reminders are off
ANSWER_WINDOW = timedelta(hours=36)  # after the question is due, an answer still counts
BETTER, USUAL, WORSE = "better", "usual", "worse"
CODES: dict[str, str] = {"b": BETTER, "u": USUAL, "w": WORSE}
LABELS: dict[str, str] = {
    BETTER: "👍 Better than usual",
    USUAL: "👌 As usual",
    WORSE: "👎 Worse",
}
QUESTION = "🌅 Good morning! After your {routine} warm-up of {day}, how does your back feel today?"
THANKS = {
    BETTER: "🌅 Back better than usual: great. Your plan stays as it is.",
    USUAL: "🌅 Back as usual: thanks. Your plan stays as it is.",
}
WORSE_HEAD = (
    "🌅 Back worse this morning: thanks for telling me. I've undone that session's increases "
    "and made your next session lighter:"
)
WORSE_FOOT = "If it keeps getting worse, rest and see a doctor or physiotherapist."
ALREADY = "Already saved ✓"
TOO_LATE = "That question has passed: your plan stays as it is."
NOT_YOURS = "That button isn't for you."
BAD_BUTTON = "That button doesn't work."

_TAP = re.compile(r"^mo:(?P<sid>[0-9]{1,18}):(?P<code>[buw])$")


@dataclass(frozen=True)
class MorningTap:
    """A tap on the next-morning question: mo:<session id>:<b|u|w>."""

    session_id: int
    answer: str

    def encode(self) -> str:
        """Return the callback data."""
        code = next(c for c, answer in CODES.items() if answer == self.answer)
        return f"{PREFIX}:{self.session_id}:{code}"

    @classmethod
    def parse(cls, data: str) -> MorningTap | None:
        """Return the tap in callback data, or None if it is not one this version makes."""
        found = _TAP.match(data)
        return cls(int(found["sid"]), CODES[found["code"]]) if found else None


def question(session_id: int, routine: str, day: str) -> Screen:
    """Return the question with its three buttons."""
    buttons: Keyboard = keyboard(
        [[Button(LABELS[a], MorningTap(session_id, a).encode())] for a in (BETTER, USUAL, WORSE)]
    )
    return Screen(QUESTION.format(routine=routine, day=day), buttons)


def morning_due(session_start: datetime, zone: str, at: time | None) -> datetime:
    """Return the morning after a session's local day at `at` (09:00 if None), in UTC."""
    tz = ZoneInfo(zone)
    day = session_start.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(day, at or MORNING_AT, tzinfo=tz).astimezone(UTC)


def needs_check(pain: int, raised: bool) -> bool:
    """Return True when a session's check-in calls for the next-morning question."""
    return pain > 0 or raised


def decide_morning(
    *, active: bool, due_at: datetime, now: datetime, grace: timedelta, needed: bool,
    answered: bool,
) -> Action:  # fmt: skip
    """Return whether to send a due next-morning question; it does not depend on reminders."""
    if not active:
        return Action.INACTIVE
    if is_stale(due_at, now, grace):
        return Action.STALE
    if answered:
        return Action.ANSWERED
    if not needed:
        return Action.NOT_NEEDED
    return Action.SEND


def answerable(due_at: datetime, now: datetime) -> bool:
    """Return True while an answer to a sent question still counts."""
    return now - due_at <= ANSWER_WINDOW


def undo_and_deload(
    catalogue: Catalogue,
    current: Prescription,
    before: Prescription,
    routine: str,
    owned: frozenset[str] = frozenset(BANDS),
) -> tuple[Prescription, list[str]]:
    """Undo what a session raised in its routine, then deload one step.

    Every target, the band, the rounds and the rest go back to the safer of now and before the
    session's check-in; then the next session is one band lighter (or at the bottom of every
    range on the lightest band).
    """
    now_rx, was = current.routine(routine), before.routine(routine)
    loads: dict[str, tuple[int, int | None]] = {}
    lines: list[str] = []
    for exercise in routine_exercises(catalogue, catalogue.routine(routine)):
        load = now_rx.load(exercise)
        after = min(load, was.load(exercise)) if exercise.key in was.targets else load
        if after != load:  # (reps, hold) orders like the ladder: the lower one is the safer
            lines.append(move_line(exercise, load, after, "undone"))
            loads[exercise.key] = after
    band = now_rx.band
    if band in BANDS and was.band in BANDS and BANDS.index(was.band) < BANDS.index(band):
        lines.append(f"Band {band} → {was.band}: undone")
        band = was.band
    rest = max(now_rx.rest_between_moves, was.rest_between_moves)
    if rest != now_rx.rest_between_moves:
        lines.append(f"Rest between moves: {now_rx.rest_between_moves} → {rest} s: undone")
    undone = replace(
        now_rx.with_loads(loads), band=band, rest_between_moves=rest,
        rounds=min(now_rx.rounds, was.rounds),
    )  # fmt: skip
    lighter, more = deload(catalogue, undone, owned)
    routines = dict(current.routines)
    routines[routine] = lighter
    return share(catalogue, current, Prescription(routines), routine), lines + more


def worse_text(lines: list[str]) -> str:
    """Return the answer to "worse": what changed, and when to get help."""
    return "\n".join([WORSE_HEAD, *(f"• {line}" for line in lines), "", WORSE_FOOT])
