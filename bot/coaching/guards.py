"""Which taps may apply to a guided session in which state: the phase × action guard table."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.coaching.session import REST, WORK, Tap, parse_phase
from bot.coaching.states import Phase, SessionStatus


class Refusal(StrEnum):
    """Why a session tap does not apply."""

    UNKNOWN = "unknown"  # no such session
    NOT_YOURS = "not_yours"
    ENDED = "ended"
    DONE_ALREADY = "done_already"  # a button of a step already logged
    NOT_NOW = "not_now"  # a later step's button, or an action the phase does not offer
    UNDONE_ALREADY = "undone_already"  # Undo again: the session is already back before it


def phase_kind(phase: str) -> str:
    """Return a stored phase without its timer offset: step, fewer, work or rest."""
    timer = parse_phase(phase)
    return timer.kind if timer is not None else phase


# The phases each action may be tapped in. Stop ends the session from anywhere.
ALLOWED: dict[str, frozenset[str]] = {
    "done": frozenset({Phase.STEP, Phase.FEWER}),
    "count": frozenset({Phase.FEWER}),
    "skip": frozenset({Phase.STEP, Phase.FEWER, WORK}),
    "fewer": frozenset({Phase.STEP, WORK}),
    "back": frozenset({Phase.FEWER}),
    "go": frozenset({Phase.STEP}),
    "skip_rest": frozenset({REST}),
    "stop": frozenset({Phase.STEP, Phase.FEWER, WORK, REST}),
    "undo": frozenset({Phase.STEP, Phase.FEWER, WORK, REST}),
}
# Undo may also take back the end of a session (a Stop, or the last set): it checks the time.
ENDED_UNDOABLE = frozenset({SessionStatus.STOPPED, SessionStatus.COMPLETED})


@dataclass(frozen=True)
class SessionFacts:
    """What the guard needs to know about a session, as seen by the member who tapped."""

    owner: bool
    status: str
    position: int
    phase: str
    timed: bool  # the current step runs on a countdown (so it offers Start timer)


def refusal_for(facts: SessionFacts | None, tap: Tap) -> Refusal | None:
    """Return why a tap cannot apply to this session now, or None when it can."""
    if facts is None:
        return Refusal.UNKNOWN
    if not facts.owner:
        return Refusal.NOT_YOURS
    if tap.action == "undo" and facts.status in ENDED_UNDOABLE:
        return None if tap.position == facts.position else Refusal.ENDED
    if facts.status != SessionStatus.ACTIVE:
        return Refusal.ENDED
    if tap.action == "undo" and tap.position > facts.position:
        return Refusal.UNDONE_ALREADY
    if tap.position < facts.position:
        return Refusal.DONE_ALREADY
    if tap.position > facts.position or phase_kind(facts.phase) not in ALLOWED[tap.action]:
        return Refusal.NOT_NOW
    if tap.action == "go" and not facts.timed:
        return Refusal.NOT_NOW
    return None
