"""Setting up a warm-up as plain data: the /warmup buttons and the moves a user picks.

Pure: imports neither telegram nor sqlalchemy. Every setup button carries its whole state
(routine, rounds, band, and for a routine with a choice of moves a bit mask over the moves it
offers, bit i = option i), so a tap is validated on its own and nothing is stored until the
session starts:

    wu:r:<routine>                      a routine
    wu:m:<routine>:<mask>               a move ticked or unticked (the mask after the tap)
    wu:g:<routine>:<mask>               Go with the ticked moves
    wu:q:<routine>:<y|n>[:<mask>]       are bodyweight squats pain-free? (seed 004's question)
    wu:n:<routine>:<rounds>[:<mask>]    the rounds
    wu:b:<routine>:<rounds>:<band>[:<mask>]   the band: the session starts
    wu:resume:<session> · wu:abandon:<session>
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.coaching.catalogue import Catalogue, Choice, Routine

PREFIX = "wu"
ROUTINE = "r"
MOVES = "m"
GO = "g"
ROUNDS = "n"
BAND = "b"
SQUATS = "q"
YES, NOT_YET = "y", "n"
ASK_AGAIN = timedelta(days=7)  # after "not yet", the squat question comes back a week later
RESUME = "resume"
ABANDON = "abandon"
MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True)
class SetupTap:
    """A parsed setup button: what was tapped and the choices made so far."""

    kind: str
    routine: str = ""
    rounds: int | None = None
    band: str | None = None
    mask: int | None = None  # the ticked moves, for a routine with a choice of moves
    session_id: int | None = None
    answer: str | None = None  # the squat question's: YES or NOT_YET

    def encode(self) -> str:
        """Return the compact callback data for this tap (at most 64 bytes)."""
        if self.kind in (RESUME, ABANDON):
            fields: list[object] = [self.kind, self.session_id]
        else:
            fields = [self.kind, self.routine]
            if self.kind in (ROUNDS, BAND):
                fields.append(self.rounds)
            if self.kind == BAND:
                fields.append(self.band)
            if self.kind == SQUATS:
                fields.append(self.answer)
            if self.mask is not None:
                fields.append(self.mask)
        data = ":".join([PREFIX, *(str(f) for f in fields)])
        assert len(data.encode()) <= MAX_CALLBACK_BYTES, data
        return data


def _number(text: str, digits: int) -> int | None:
    """Return a plain ASCII whole number of at most `digits` digits (no sign, no leading 0)."""
    if not (text.isascii() and text.isdigit()) or len(text) > digits:
        return None
    return int(text) if text == str(int(text)) else None


def _mask(choice: Choice | None, text: str | None) -> int | None:
    """Return a mask that only sets bits of the choice's options, or None."""
    if choice is None or text is None:
        return None
    mask = _number(text, 5)
    return mask if mask is not None and mask < 1 << len(choice.options) else None


def parse_setup(catalogue: Catalogue, data: str) -> SetupTap | None:
    """Return the setup tap in callback data, or None when it is malformed or impossible.

    Impossible means an unknown routine, rounds or band; a mask on a routine without a choice
    or missing on one with it; bits past the options; or rounds/band reached with a pick the
    choice does not allow (the keyboards never offer that, so the data was forged).
    """
    prefix, *parts = data.split(":")
    if prefix != PREFIX or not parts:
        return None
    kind, rest = parts[0], parts[1:]
    if kind in (RESUME, ABANDON):
        sid = _number(rest[0], 18) if len(rest) == 1 else None
        return SetupTap(kind, session_id=sid) if sid is not None else None
    if not rest or rest[0] not in catalogue.routines:
        return None
    routine = catalogue.routine(rest[0])
    choice = routine.choice
    fixed = {ROUTINE: 0, MOVES: 0, GO: 0, SQUATS: 1, ROUNDS: 1, BAND: 2}.get(kind)  # and a mask
    if fixed is None:
        return None
    wants_mask = choice is not None and kind != ROUTINE
    if len(rest) != 1 + fixed + wants_mask or (kind in (MOVES, GO) and choice is None):
        return None
    mask = _mask(choice, rest[-1]) if wants_mask else None
    if wants_mask and mask is None:
        return None
    if wants_mask and kind in (SQUATS, ROUNDS, BAND) and not pick_allowed(routine, mask):
        return None
    if kind in (MOVES, GO):
        return SetupTap(kind, routine.key, mask=mask)
    if kind == SQUATS:
        answer = rest[1] if rest[1] in (YES, NOT_YET) else None
        asks = waiting_move(catalogue, routine, moves_of(routine, mask)) is not None
        return SetupTap(kind, routine.key, mask=mask, answer=answer) if answer and asks else None
    rounds = _number(rest[1], 2) if kind in (ROUNDS, BAND) else None
    if kind in (ROUNDS, BAND) and rounds not in routine.round_choices:
        return None
    band = rest[2] if kind == BAND else None
    if kind == BAND and band not in catalogue.bands_for(routine.key):
        return None
    return SetupTap(kind, routine.key, rounds, band, mask)


# ---------------------------------------------------------------- the moves a user picks


def moves_of(routine: Routine, mask: int | None) -> tuple[str, ...] | None:
    """Return the moves a mask ticks, in the choice's order; None for a routine without one."""
    if routine.choice is None or mask is None:
        return None
    return tuple(key for i, key in enumerate(routine.choice.options) if mask >> i & 1)


def mask_of(choice: Choice, moves: Sequence[str]) -> int:
    """Return the mask that ticks these moves (moves the choice does not offer are ignored)."""
    return sum(1 << i for i, key in enumerate(choice.options) if key in set(moves))


def toggled(mask: int, index: int) -> int:
    """Return the mask with one move ticked or unticked."""
    return mask ^ (1 << index)


def pick_allowed(routine: Routine, mask: int | None) -> bool:
    """Return True when the mask ticks as many moves as the choice asks for."""
    choice, moves = routine.choice, moves_of(routine, mask)
    return choice is not None and moves is not None and choice.problem(moves) is None


def remembered_mask(routine: Routine, last_plan: Mapping[str, Any] | None) -> int:
    """Return the moves to tick first: the last session's, if still a valid pick, else defaults."""
    choice = routine.choice
    assert choice is not None, routine.key
    steps = (last_plan or {}).get("steps")
    if isinstance(steps, list):
        found = list(dict.fromkeys(s.get("exercise") for s in steps if isinstance(s, dict)))
        moves = [m for m in found if isinstance(m, str)]
        if len(moves) == len(found) and choice.problem(moves) is None:
            return mask_of(choice, moves)
    return mask_of(choice, choice.defaults)


# ---------------------------------------------------------------- seed 004's squat question


def waiting_move(catalogue: Catalogue, routine: Routine, moves: Sequence[str] | None) -> str | None:
    """Return the first move of a session that waits for pain-free bodyweight squats, if any."""
    waiting = catalogue.stand_ins()
    return next((s.exercise for s in routine.steps_for(moves) if s.exercise in waiting), None)


def ask_squats(ok: bool | None, asked_at: datetime | None, now: datetime) -> bool:
    """Return True when the squat question is due: never answered, or "not yet" a week ago."""
    if ok:
        return False
    return ok is None or asked_at is None or now - asked_at >= ASK_AGAIN


def stand_ins(catalogue: Catalogue, squats_ok: bool | None) -> dict[str, str]:
    """Return the moves a member's sessions replace: none once bodyweight squats are pain-free."""
    return {} if squats_ok else catalogue.stand_ins()
