"""Keyboards for reminder nudges (rm:…) and the /reminders settings (rs:…), under 64 bytes."""

from __future__ import annotations

from datetime import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.coaching.profile import COMMON_TIMEZONES, DAY_NAMES

NUDGE = "rm"
SETTINGS = "rs"
# Nudge actions: rm:<action>:<slot id>.
START, SNOOZE, SKIP = "go", "sn", "sk"
NUDGE_ACTIONS = frozenset({START, SNOOZE, SKIP})
COMMON_TIMES: tuple[time, ...] = (time(6), time(7), time(8), time(12), time(18), time(20))


def _button(label: str, data: str) -> InlineKeyboardButton:
    """Return a callback button, refusing data Telegram would reject."""
    if not 1 <= len(data.encode()) <= 64:
        raise ValueError(f"callback data must be 1-64 bytes: {data!r}")
    return InlineKeyboardButton(label, callback_data=data)


def nudge_keyboard(slot_id: int) -> InlineKeyboardMarkup:
    """Return Start now / Snooze 1 h / Skip today for one reminder slot."""
    return InlineKeyboardMarkup(
        [
            [_button("▶️ Start now", f"{NUDGE}:{START}:{slot_id}")],
            [
                _button("😴 Snooze 1 h", f"{NUDGE}:{SNOOZE}:{slot_id}"),
                _button("Skip today", f"{NUDGE}:{SKIP}:{slot_id}"),
            ],
        ]
    )


def menu_keyboard(*, enabled: bool, paused: bool) -> InlineKeyboardMarkup:
    """Return the /reminders overview buttons."""
    rows = [
        [_button("📅 Days", f"{SETTINGS}:days"), _button("🕖 Time", f"{SETTINGS}:time")],
        [_button("🌍 Time zone", f"{SETTINGS}:tz")],
    ]
    if enabled and not paused:
        rows.append(
            [
                _button("⏸ Pause a week", f"{SETTINGS}:pw"),
                _button("⏸ Until I resume", f"{SETTINGS}:po"),
            ]
        )
    else:
        rows.append([_button("▶️ Resume", f"{SETTINGS}:resume")])
    rows.append([_button("Done", f"{SETTINGS}:done")])
    return InlineKeyboardMarkup(rows)


def days_keyboard(days_mask: int) -> InlineKeyboardMarkup:
    """Return a toggle button per weekday, ticked when selected."""
    buttons = [
        _button(f"✓ {name}" if days_mask >> i & 1 else name, f"{SETTINGS}:day:{i}")
        for i, name in enumerate(DAY_NAMES)
    ]
    return InlineKeyboardMarkup([buttons[:4], buttons[4:], [_button("⬅️ Back", f"{SETTINGS}:menu")]])


def empty_days_keyboard() -> InlineKeyboardMarkup:
    """Return the choice offered when the user tries to untick the last day."""
    return InlineKeyboardMarkup(
        [
            [_button("⏸ Pause until I resume", f"{SETTINGS}:po")],
            [_button("Keep my days", f"{SETTINGS}:days")],
        ]
    )


def time_keyboard(current: time) -> InlineKeyboardMarkup:
    """Return common reminder times, the current one ticked."""
    buttons = [
        _button(f"✓ {t:%H:%M}" if t == current else f"{t:%H:%M}", f"{SETTINGS}:at:{t:%H%M}")
        for t in COMMON_TIMES
    ]
    return InlineKeyboardMarkup([buttons[:3], buttons[3:], [_button("⬅️ Back", f"{SETTINGS}:menu")]])


def zone_keyboard(current: str) -> InlineKeyboardMarkup:
    """Return common time zones, the current one ticked."""
    buttons = [
        _button(f"✓ {z}" if z == current else z, f"{SETTINGS}:zone:{z}") for z in COMMON_TIMEZONES
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup([*rows, [_button("⬅️ Back", f"{SETTINGS}:menu")]])
