"""Inline keyboards and their compact callback data (always under Telegram's 64 bytes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.coaching.profile import BAND_LABELS, BANDS, GOALS, NO_BAND, SCHEDULE_PRESETS
from bot.coaching.screen import Button, Keyboard, keyboard, rows_of

ONBOARDING = "ob"
EDIT = "oe"  # the same choices, changing one setting from /settings
SETTINGS_MENU = "st"
# /settings: walk through setup again, close, one setting, the data, a coach's alerts, the menu.
CHANGE, KEEP = "change", "keep"
GOAL, BANDS_OWNED, REMINDERS, EXPORT, DELETE = "goal", "bands", "rem", "export", "delete"
ALERTS_ON, ALERTS_OFF, MENU = "alerts1", "alerts0", "menu"
MENU_ACTIONS = frozenset(
    {CHANGE, KEEP, GOAL, BANDS_OWNED, REMINDERS, EXPORT, DELETE, ALERTS_ON, ALERTS_OFF, MENU}
)


@dataclass(frozen=True)
class OnboardingTap:
    """A tap on an onboarding choice: ob:<step>:<value>, or oe:<step>:<value> from /settings."""

    step: str
    value: str
    edit: bool = False

    def encode(self) -> str:
        """Return the callback data."""
        return f"{EDIT if self.edit else ONBOARDING}:{self.step}:{self.value}"

    @classmethod
    def parse(cls, data: str) -> OnboardingTap | None:
        """Return the tap in callback data (its value unchecked), or None if malformed."""
        prefix, step, value = [*data.split(":", 2), "", ""][:3]
        if prefix not in (ONBOARDING, EDIT) or not step or not value:
            return None
        return cls(step, value, edit=prefix == EDIT)


@dataclass(frozen=True)
class MenuTap:
    """A tap on the /settings menu: st:<action>."""

    action: str

    def encode(self) -> str:
        """Return the callback data."""
        return f"{SETTINGS_MENU}:{self.action}"

    @classmethod
    def parse(cls, data: str) -> MenuTap | None:
        """Return the tap in callback data, or None if it is not one this version makes."""
        prefix, _, action = data.partition(":")
        return cls(action) if prefix == SETTINGS_MENU and action in MENU_ACTIONS else None


SET_UP_AGAIN = "🔁 Set up again, step by step"
CLOSE = "✅ Done"
KEEP_SCHEDULE = "keep"  # the schedule value that keeps a typed time when settings change
TOGGLE_BANDS, DONE_BANDS = "m", "d"  # band step values: m<mask> ticks or unticks, d<mask> saves
BANDS_DONE = "✅ Save my bands"


def _choice(step: str, value: str, label: str, current: str | None, edit: bool = False) -> Button:
    """Return one onboarding choice button, ticked when it is the current value."""
    text = f"✓ {label}" if value == current else label
    return Button(text, OnboardingTap(step, value, edit).encode())


def onboarding_keyboard(
    step: str,
    *,
    current: str | None = None,
    default_timezone: str = "UTC",
    zones: Sequence[str] = (),
    keep: str | None = None,
    owned: int = 0,
    edit: bool = False,
) -> Keyboard:
    """Return the buttons for an onboarding step, marking the user's current choice.

    `keep` offers to keep a schedule no preset matches (a typed time), ticked first; `owned`
    is the bit mask of the bands ticked so far at the band step. `edit` makes the buttons
    change just this setting, from /settings, with a way back to the menu.
    """
    if step == "goal":
        buttons = [_choice(step, k, label, current, edit) for k, label in GOALS.items()]
        return keyboard([*rows_of(buttons, 1), *_back(edit)])
    if step == "band":
        return keyboard([*bands_keyboard(owned, edit), *_back(edit)])
    if step == "schedule":
        buttons = [
            _choice(step, p.key, p.label + (" (recommended)" if i == 0 else ""), current)
            for i, p in enumerate(SCHEDULE_PRESETS)
        ]
        if keep is not None:
            buttons.insert(0, _choice(step, KEEP_SCHEDULE, f"Keep: {keep}", KEEP_SCHEDULE))
        return rows_of(buttons, 1)
    if step == "timezone":
        ordered = [default_timezone, *(z for z in zones if z != default_timezone)]
        buttons = [_choice(step, z, z, current) for z in ordered]
        return rows_of(buttons, 2)
    raise ValueError(f"unknown onboarding step {step!r}")


def bands_keyboard(owned: int, edit: bool = False) -> Keyboard:
    """Return the bands to tick (several can be), Done once one is ticked, and 'no band yet'."""
    toggles = [
        Button(
            f"✓ {BAND_LABELS[band]}" if owned >> i & 1 else BAND_LABELS[band],
            OnboardingTap("band", f"{TOGGLE_BANDS}{owned ^ (1 << i)}", edit).encode(),
        )
        for i, band in enumerate(BANDS)
    ]
    rows = [toggles[:2], toggles[2:]]
    if owned:
        done = OnboardingTap("band", f"{DONE_BANDS}{owned}", edit)
        rows.append([Button(BANDS_DONE, done.encode())])
    rows.append([_choice("band", NO_BAND, BAND_LABELS[NO_BAND], None, edit)])
    return keyboard(rows)


def _back(edit: bool) -> list[list[Button]]:
    """Return a row back to the /settings menu when changing one setting."""
    return [[Button("⬅️ Back", MenuTap(MENU).encode())]] if edit else []


def settings_menu(*, coach: bool = False, alerts: bool = False) -> Keyboard:
    """Return the /settings menu (also shown by /start to a member already set up)."""
    rows = [
        [
            Button("🎯 Goal", MenuTap(GOAL).encode()),
            Button("🎨 My bands", MenuTap(BANDS_OWNED).encode()),
        ],
        [Button("⏰ Reminders, time & zone", MenuTap(REMINDERS).encode())],
        [
            Button("📤 Export my data", MenuTap(EXPORT).encode()),
            Button("🗑 Delete my data", MenuTap(DELETE).encode()),
        ],
    ]
    if coach:
        label, action = (
            ("🔔 Pain alerts: on", ALERTS_OFF) if alerts else ("🔕 Pain alerts: off", ALERTS_ON)
        )
        rows.append([Button(label, MenuTap(action).encode())])
    rows.append([Button(SET_UP_AGAIN, MenuTap(CHANGE).encode())])
    rows.append([Button(CLOSE, MenuTap(KEEP).encode())])
    return keyboard(rows)
