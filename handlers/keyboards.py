"""Inline keyboards and their compact callback data (always under Telegram's 64 bytes)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.coaching.profile import BAND_LABELS, BANDS, GOALS, NO_BAND, SCHEDULE_PRESETS

ONBOARDING = "ob"
SETTINGS_MENU = "st"


def _rows(
    buttons: Sequence[InlineKeyboardButton], columns: int
) -> list[list[InlineKeyboardButton]]:
    """Split buttons into rows of `columns`."""
    return [list(buttons[i : i + columns]) for i in range(0, len(buttons), columns)]


def _choice(step: str, value: str, label: str, current: str | None) -> InlineKeyboardButton:
    """Return one onboarding choice button, ticked when it is the current value."""
    text = f"✓ {label}" if value == current else label
    return InlineKeyboardButton(text, callback_data=f"{ONBOARDING}:{step}:{value}")


def onboarding_keyboard(
    step: str,
    *,
    current: str | None = None,
    default_timezone: str = "UTC",
    zones: Sequence[str] = (),
) -> InlineKeyboardMarkup:
    """Return the buttons for an onboarding step, marking the user's current choice."""
    if step == "goal":
        buttons = [_choice(step, k, label, current) for k, label in GOALS.items()]
        return InlineKeyboardMarkup(_rows(buttons, 1))
    if step == "band":
        buttons = [_choice(step, b, BAND_LABELS[b], current) for b in (*BANDS, NO_BAND)]
        return InlineKeyboardMarkup(_rows(buttons, 2))
    if step == "schedule":
        buttons = [
            _choice(step, p.key, p.label + (" (recommended)" if i == 0 else ""), current)
            for i, p in enumerate(SCHEDULE_PRESETS)
        ]
        return InlineKeyboardMarkup(_rows(buttons, 1))
    if step == "timezone":
        ordered = [default_timezone, *(z for z in zones if z != default_timezone)]
        buttons = [_choice(step, z, z, current) for z in ordered]
        return InlineKeyboardMarkup(_rows(buttons, 2))
    raise ValueError(f"unknown onboarding step {step!r}")


def settings_menu() -> InlineKeyboardMarkup:
    """Return the choice offered to a returning user on /start."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Change settings", callback_data=f"{SETTINGS_MENU}:change")],
            [InlineKeyboardButton("Keep as is", callback_data=f"{SETTINGS_MENU}:keep")],
        ]
    )
