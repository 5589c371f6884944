"""Keyboards for reminder nudges (rm:…) and the /reminders settings (rs:…), under 64 bytes."""

from __future__ import annotations

from datetime import time

from bot.coaching.profile import COMMON_TIMEZONES, DAY_NAMES
from bot.coaching.screen import Button, Keyboard, keyboard

NUDGE = "rm"
SETTINGS = "rs"
# Nudge actions: rm:<action>:<slot id>.
START, SNOOZE, SKIP = "go", "sn", "sk"
NUDGE_ACTIONS = frozenset({START, SNOOZE, SKIP})
COMMON_TIMES: tuple[time, ...] = (time(6), time(7), time(8), time(12), time(18), time(20))


def nudge_keyboard(slot_id: int) -> Keyboard:
    """Return Start now / Snooze 1 h / Skip today for one reminder slot."""
    return keyboard(
        [
            [Button("▶️ Start now", f"{NUDGE}:{START}:{slot_id}")],
            [
                Button("😴 Snooze 1 h", f"{NUDGE}:{SNOOZE}:{slot_id}"),
                Button("Skip today", f"{NUDGE}:{SKIP}:{slot_id}"),
            ],
        ]
    )


def menu_keyboard(*, enabled: bool, paused: bool) -> Keyboard:
    """Return the /reminders overview buttons."""
    rows = [
        [Button("📅 Days", f"{SETTINGS}:days"), Button("🕖 Time", f"{SETTINGS}:time")],
        [Button("🌍 Time zone", f"{SETTINGS}:tz")],
    ]
    if enabled and not paused:
        rows.append(
            [
                Button("⏸ Pause a week", f"{SETTINGS}:pw"),
                Button("⏸ Until I resume", f"{SETTINGS}:po"),
            ]
        )
    else:
        rows.append([Button("▶️ Resume", f"{SETTINGS}:resume")])
    rows.append([Button("Done", f"{SETTINGS}:done")])
    return keyboard(rows)


def days_keyboard(days_mask: int) -> Keyboard:
    """Return a toggle button per weekday, ticked when selected."""
    buttons = [
        Button(f"✓ {name}" if days_mask >> i & 1 else name, f"{SETTINGS}:day:{i}")
        for i, name in enumerate(DAY_NAMES)
    ]
    return keyboard([buttons[:4], buttons[4:], [Button("⬅️ Back", f"{SETTINGS}:menu")]])


def empty_days_keyboard() -> Keyboard:
    """Return the choice offered when the user tries to untick the last day."""
    return keyboard(
        [
            [Button("⏸ Pause until I resume", f"{SETTINGS}:po")],
            [Button("Keep my days", f"{SETTINGS}:days")],
        ]
    )


def time_keyboard(current: time) -> Keyboard:
    """Return common reminder times, the current one ticked."""
    buttons = [
        Button(f"✓ {t:%H:%M}" if t == current else f"{t:%H:%M}", f"{SETTINGS}:at:{t:%H%M}")
        for t in COMMON_TIMES
    ]
    return keyboard([buttons[:3], buttons[3:], [Button("⬅️ Back", f"{SETTINGS}:menu")]])


def zone_keyboard(current: str) -> Keyboard:
    """Return common time zones, the current one ticked."""
    buttons = [
        Button(f"✓ {z}" if z == current else z, f"{SETTINGS}:zone:{z}") for z in COMMON_TIMEZONES
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return keyboard([*rows, [Button("⬅️ Back", f"{SETTINGS}:menu")]])
