"""Inline keyboards of the pain check-in (ci:…), each button's data under 64 bytes."""

from __future__ import annotations

from bot.coaching import checkin_texts as ct
from bot.coaching.checkin import (
    AREA_BITS,
    AREAS_DONE,
    MAX_PAIN,
    NO_NOTE,
    PAIN,
    PREFIX,
    SIDE,
    TOGGLE,
    Tap,
    toggled,
)
from bot.coaching.screen import Button, Keyboard, Screen, keyboard

CHECKIN = PREFIX


def _button(label: str, tap: Tap) -> Button:
    """Return a callback button for a check-in tap."""
    return Button(label, tap.encode())


def pain_keyboard(session_id: int) -> Keyboard:
    """Return 0-10 in two rows, 0 labelled 'none' and 10 'worst'."""
    buttons = [_button(ct.pain_label(n), Tap(session_id, PAIN, n)) for n in range(MAX_PAIN + 1)]
    return keyboard([buttons[:6], buttons[6:]])


def areas_keyboard(session_id: int, pain: int, mask: int) -> Keyboard:
    """Return the areas to tick (ticked ones marked) and, once one is ticked, 'That's all'."""
    rows = [
        [
            _button(
                f"✓ {label}" if mask & AREA_BITS[area] else label,
                Tap(session_id, TOGGLE, pain, toggled(mask, area)),
            )
        ]
        for area, label in ct.AREA_LABELS.items()
    ]
    if mask:
        rows.append([_button(ct.THATS_ALL, Tap(session_id, AREAS_DONE, pain, mask))])
    return keyboard(rows)


def side_keyboard(session_id: int, pain: int, mask: int) -> Keyboard:
    """Return left / right / the same."""
    return keyboard(
        [
            [
                _button(label, Tap(session_id, SIDE, pain, mask, side))
                for side, label in ct.SIDE_LABELS.items()
            ]
        ]
    )


def note_keyboard(session_id: int) -> Keyboard:
    """Return the button that skips the note."""
    return keyboard([[_button(ct.NO_NOTE, Tap(session_id, NO_NOTE))]])


def first_question(session_id: int, head: str) -> Screen:
    """Return the pain question below `head` (a summary or an intro) with its buttons."""
    return Screen(ct.with_head(head, ct.PAIN_QUESTION), pain_keyboard(session_id))


def next_question(tap: Tap, head: str) -> Screen:
    """Return the question that follows a pain, area or "that's all" tap."""
    if tap.kind == AREAS_DONE or (tap.kind == PAIN and tap.pain == 0):
        question = ct.SIDE_QUESTION.format(pain=tap.pain, where=ct.where(tap.areas))
        return Screen(
            ct.with_head(head, question), side_keyboard(tap.session_id, tap.pain, tap.mask)
        )
    question = ct.AREAS_QUESTION.format(pain=tap.pain)
    return Screen(ct.with_head(head, question), areas_keyboard(tap.session_id, tap.pain, tap.mask))
