"""Inline keyboards for /warmup: setup choices and the buttons of a running session."""

from __future__ import annotations

from collections.abc import Sequence

from bot.coaching import session_texts as t
from bot.coaching import setup
from bot.coaching.catalogue import Catalogue, Routine
from bot.coaching.profile import BAND_LABELS, BANDS
from bot.coaching.screen import Button, Keyboard, keyboard
from bot.coaching.session import PlanStep, Tap, fewer_choices
from bot.coaching.setup import SetupTap

SETUP = setup.PREFIX  # wu:…, see bot.coaching.setup
SESSION = "ws"  # ws:<session>:<position>:<action>, see bot.coaching.session.Tap
RESUME = setup.RESUME
ABANDON = setup.ABANDON
MOVES_PER_ROW = 2


def _tap(label: str, session_id: int, position: int, action: str) -> Button:
    """Return a session button for an action on a position."""
    return Button(label, Tap(session_id, position, action).encode())


def _setup(label: str, tap: SetupTap) -> Button:
    """Return a setup button."""
    return Button(label, tap.encode())


def routines_keyboard(routines: Sequence[Routine]) -> Keyboard:
    """Return one button per routine, the first (suggested) one starred."""
    return keyboard(
        [
            [_setup((t.SUGGESTED if i == 0 else "") + r.name, SetupTap(setup.ROUTINE, r.key))]
            for i, r in enumerate(routines)
        ]
    )


def moves_keyboard(catalogue: Catalogue, routine: Routine, mask: int) -> Keyboard:
    """Return the moves to tick (ticked ones marked), two per row, then Go."""
    assert routine.choice is not None, routine.key
    buttons = [
        _setup(
            f"✓ {catalogue.exercise(key).name}" if mask >> i & 1 else catalogue.exercise(key).name,
            SetupTap(setup.MOVES, routine.key, mask=setup.toggled(mask, i)),
        )
        for i, key in enumerate(routine.choice.options)
    ]
    rows = [buttons[i : i + MOVES_PER_ROW] for i in range(0, len(buttons), MOVES_PER_ROW)]
    rows.append([_setup(t.GO_LABEL, SetupTap(setup.GO, routine.key, mask=mask))])
    return keyboard(rows)


def rounds_keyboard(
    routine: Routine, suggested: int | None = None, mask: int | None = None
) -> Keyboard:
    """Return the allowed rounds with the suggested number (default: the routine's) ticked."""
    tick = routine.rounds if suggested is None else suggested
    buttons = [
        _setup(
            f"✓ {n} {t.rounds_word(n)} (suggested)" if n == tick else f"{n} {t.rounds_word(n)}",
            SetupTap(setup.ROUNDS, routine.key, rounds=n, mask=mask),
        )
        for n in routine.round_choices
    ]
    return keyboard([buttons])


def squats_keyboard(routine: Routine, mask: int | None = None) -> Keyboard:
    """Return seed 004's squat question: yes, or bridges instead for now."""
    yes = _setup(t.SQUATS_YES, SetupTap(setup.SQUATS, routine.key, mask=mask, answer=setup.YES))
    no = SetupTap(setup.SQUATS, routine.key, mask=mask, answer=setup.NOT_YET)
    return keyboard([[yes], [_setup(t.SQUATS_NOT_YET, no)]])


def band_keyboard(
    routine: Routine,
    rounds: int,
    current: str | None,
    mask: int | None = None,
    bands: Sequence[str] = BANDS,
    note: str = t.MY_BAND,
) -> Keyboard:
    """Return the bands the routine allows, the user's own first, so confirming is one tap."""
    ordered = [b for b in bands if b == current] + [b for b in bands if b != current]
    buttons = [
        _setup(
            f"✓ {BAND_LABELS[b]} ({note})" if b == current else BAND_LABELS[b],
            SetupTap(setup.BAND, routine.key, rounds=rounds, band=b, mask=mask),
        )
        for b in ordered
    ]
    if current in BANDS:
        return keyboard([[buttons[0]], buttons[1:]])
    return keyboard([buttons[:2], buttons[2:]])


def resume_keyboard(session_id: int) -> Keyboard:
    """Return Resume and Abandon for a session left in progress."""
    return keyboard(
        [
            [_setup(t.RESUME, SetupTap(RESUME, session_id=session_id))],
            [_setup(t.ABANDON, SetupTap(ABANDON, session_id=session_id))],
        ]
    )


def step_keyboard(session_id: int, step: PlanStep, undo: bool = False) -> Keyboard:
    """Return Done / Fewer / Skip / Stop (Start timer for timed steps, Undo after a set)."""
    pos = step.position
    rows = [
        [
            _tap(t.DONE_LABEL, session_id, pos, "done"),
            _tap(t.FEWER_LABEL, session_id, pos, "fewer"),
        ],
        [_tap(t.SKIP_LABEL, session_id, pos, "skip"), _tap(t.STOP_LABEL, session_id, pos, "stop")],
    ]
    if step.timed:
        rows.insert(0, [_tap(t.START_TIMER_LABEL, session_id, pos, "go")])
    return keyboard(rows + undo_row(session_id, pos, undo))


def undo_row(session_id: int, position: int, undo: bool) -> list[list[Button]]:
    """Return the Undo row while the last set (or a Stop) may still be taken back."""
    return [[_tap(t.UNDO_LABEL, session_id, position, "undo")]] if undo else []


def countdown_keyboard(session_id: int, position: int) -> Keyboard:
    """Return the buttons shown while a timed step counts down."""
    return keyboard(
        [
            [
                _tap(t.FEWER_LABEL, session_id, position, "fewer"),
                _tap(t.SKIP_LABEL, session_id, position, "skip"),
            ],
            [_tap(t.STOP_LABEL, session_id, position, "stop")],
        ]
    )


def rest_keyboard(session_id: int, position: int, undo: bool = False) -> Keyboard:
    """Return Skip rest and Stop for a rest countdown before `position` (and Undo)."""
    row = [
        _tap(t.SKIP_REST_LABEL, session_id, position, "skip_rest"),
        _tap(t.STOP_LABEL, session_id, position, "stop"),
    ]
    return keyboard([row, *undo_row(session_id, position, undo)])


def fewer_keyboard(session_id: int, step: PlanStep) -> Keyboard:
    """Return the numbers below the target, in rows of five, and Back."""
    numbers = [
        Button(str(n), Tap(session_id, step.position, "count", n).encode())
        for n in fewer_choices(step.target)
    ]
    rows = [numbers[i : i + 5] for i in range(0, len(numbers), 5)]
    rows.append([_tap(t.BACK_LABEL, session_id, step.position, "back")])
    return keyboard(rows)
