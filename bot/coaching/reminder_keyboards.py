"""Keyboards for reminder nudges (rm:…) and the /reminders settings (rs:…), under 64 bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from bot.coaching.profile import COMMON_TIMEZONES, DAY_NAMES
from bot.coaching.screen import Button, Keyboard, keyboard

NUDGE = "rm"
SETTINGS = "rs"
# Nudge actions: rm:<action>:<slot id>.
START, SNOOZE, SKIP = "go", "sn", "sk"
NUDGE_ACTIONS = frozenset({START, SNOOZE, SKIP})
COMMON_TIMES: tuple[time, ...] = (time(6), time(7), time(8), time(12), time(18), time(20))


@dataclass(frozen=True)
class NudgeTap:
    """A tap on a reminder: rm:<action>:<slot id>."""

    action: str
    slot_id: int

    def encode(self) -> str:
        """Return the callback data."""
        return f"{NUDGE}:{self.action}:{self.slot_id}"

    @classmethod
    def parse(cls, data: str) -> NudgeTap | None:
        """Return the tap in callback data, or None if it is not one this version makes."""
        prefix, action, raw_id = [*data.split(":", 2), "", ""][:3]
        if prefix != NUDGE or action not in NUDGE_ACTIONS:
            return None
        if not raw_id.isdigit() or len(raw_id) > 18:  # fits a BIGINT
            return None
        return cls(action, int(raw_id))


@dataclass(frozen=True)
class SettingsTap:
    """A tap in the /reminders menu: rs:<action>[:<argument>]."""

    action: str
    arg: str = ""

    def encode(self) -> str:
        """Return the callback data."""
        return f"{SETTINGS}:{self.action}:{self.arg}" if self.arg else f"{SETTINGS}:{self.action}"

    @classmethod
    def parse(cls, data: str) -> SettingsTap | None:
        """Return the tap in callback data (its argument unchecked), or None if malformed."""
        prefix, action, arg = [*data.split(":", 2), "", ""][:3]
        return cls(action, arg) if prefix == SETTINGS and action else None


def _nudge(label: str, action: str, slot_id: int) -> Button:
    """Return one button of a reminder."""
    return Button(label, NudgeTap(action, slot_id).encode())


def _setting(label: str, action: str, arg: str = "") -> Button:
    """Return one button of the /reminders menu."""
    return Button(label, SettingsTap(action, arg).encode())


def nudge_keyboard(slot_id: int) -> Keyboard:
    """Return Start now / Snooze 1 h / Skip today for one reminder slot."""
    return keyboard(
        [
            [_nudge("▶️ Start now", START, slot_id)],
            [
                _nudge("😴 Snooze 1 h", SNOOZE, slot_id),
                _nudge("Skip today", SKIP, slot_id),
            ],
        ]
    )


def menu_keyboard(*, enabled: bool, paused: bool) -> Keyboard:
    """Return the /reminders overview buttons."""
    rows = [
        [_setting("📅 Days", "days"), _setting("🕖 Time", "time")],
        [_setting("🌍 Time zone", "tz")],
    ]
    if enabled and not paused:
        rows.append(
            [
                _setting("⏸ Pause a week", "pw"),
                _setting("⏸ Until I resume", "po"),
            ]
        )
    else:
        rows.append([_setting("▶️ Resume", "resume")])
    rows.append([_setting("Done", "done")])
    return keyboard(rows)


def days_keyboard(days_mask: int) -> Keyboard:
    """Return a toggle button per weekday, ticked when selected."""
    buttons = [
        _setting(f"✓ {name}" if days_mask >> i & 1 else name, "day", str(i))
        for i, name in enumerate(DAY_NAMES)
    ]
    return keyboard([buttons[:4], buttons[4:], [_setting("⬅️ Back", "menu")]])


def empty_days_keyboard() -> Keyboard:
    """Return the choice offered when the user tries to untick the last day."""
    return keyboard(
        [
            [_setting("⏸ Pause until I resume", "po")],
            [_setting("Keep my days", "days")],
        ]
    )


def time_keyboard(current: time) -> Keyboard:
    """Return common reminder times, the current one ticked."""
    buttons = [
        _setting(f"✓ {t:%H:%M}" if t == current else f"{t:%H:%M}", "at", f"{t:%H%M}")
        for t in COMMON_TIMES
    ]
    return keyboard([buttons[:3], buttons[3:], [_setting("⬅️ Back", "menu")]])


def zone_keyboard(current: str) -> Keyboard:
    """Return common time zones, the current one ticked."""
    buttons = [_setting(f"✓ {z}" if z == current else z, "zone", z) for z in COMMON_TIMEZONES]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return keyboard([*rows, [_setting("⬅️ Back", "menu")]])
