"""Inline keyboards of the pain check-in (ci:…), each button's data under 64 bytes."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

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

CHECKIN = PREFIX


def _button(label: str, tap: Tap) -> InlineKeyboardButton:
    """Return a callback button for a check-in tap."""
    return InlineKeyboardButton(label, callback_data=tap.encode())


def pain_keyboard(session_id: int) -> InlineKeyboardMarkup:
    """Return 0-10 in two rows, 0 labelled 'none' and 10 'worst'."""
    buttons = [_button(ct.pain_label(n), Tap(session_id, PAIN, n)) for n in range(MAX_PAIN + 1)]
    return InlineKeyboardMarkup([buttons[:6], buttons[6:]])


def areas_keyboard(session_id: int, pain: int, mask: int) -> InlineKeyboardMarkup:
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
    return InlineKeyboardMarkup(rows)


def side_keyboard(session_id: int, pain: int, mask: int) -> InlineKeyboardMarkup:
    """Return left / right / the same."""
    return InlineKeyboardMarkup(
        [
            [
                _button(label, Tap(session_id, SIDE, pain, mask, side))
                for side, label in ct.SIDE_LABELS.items()
            ]
        ]
    )


def note_keyboard(session_id: int) -> InlineKeyboardMarkup:
    """Return the button that skips the note."""
    return InlineKeyboardMarkup([[_button(ct.NO_NOTE, Tap(session_id, NO_NOTE))]])
