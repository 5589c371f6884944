"""Inline keyboards and their compact callback data (always under Telegram's 64 bytes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.coaching.profile import BAND_LABELS, BANDS, GOALS, NO_BAND, SCHEDULE_PRESETS
from bot.coaching.screen import Button, Keyboard, keyboard, rows_of

ONBOARDING = "ob"
SETTINGS_MENU = "st"
CHANGE, KEEP = "change", "keep"


@dataclass(frozen=True)
class OnboardingTap:
    """A tap on an onboarding choice: ob:<step>:<value>."""

    step: str
    value: str

    def encode(self) -> str:
        """Return the callback data."""
        return f"{ONBOARDING}:{self.step}:{self.value}"

    @classmethod
    def parse(cls, data: str) -> OnboardingTap | None:
        """Return the tap in callback data (its value unchecked), or None if malformed."""
        prefix, step, value = [*data.split(":", 2), "", ""][:3]
        return cls(step, value) if prefix == ONBOARDING and step and value else None


@dataclass(frozen=True)
class MenuTap:
    """A tap on the returning member's menu: st:change or st:keep."""

    action: str

    def encode(self) -> str:
        """Return the callback data."""
        return f"{SETTINGS_MENU}:{self.action}"

    @classmethod
    def parse(cls, data: str) -> MenuTap | None:
        """Return the tap in callback data, or None if it is not one this version makes."""
        prefix, _, action = data.partition(":")
        return cls(action) if prefix == SETTINGS_MENU and action in (CHANGE, KEEP) else None


KEEP_SCHEDULE = "keep"  # the schedule value that keeps a typed time when settings change
TOGGLE_BANDS, DONE_BANDS = "m", "d"  # band step values: m<mask> ticks or unticks, d<mask> saves
BANDS_DONE = "✅ Save my bands"


def _choice(step: str, value: str, label: str, current: str | None) -> Button:
    """Return one onboarding choice button, ticked when it is the current value."""
    text = f"✓ {label}" if value == current else label
    return Button(text, OnboardingTap(step, value).encode())


def onboarding_keyboard(
    step: str,
    *,
    current: str | None = None,
    default_timezone: str = "UTC",
    zones: Sequence[str] = (),
    keep: str | None = None,
    owned: int = 0,
) -> Keyboard:
    """Return the buttons for an onboarding step, marking the user's current choice.

    `keep` offers to keep a schedule no preset matches (a typed time), ticked first; `owned`
    is the bit mask of the bands ticked so far at the band step.
    """
    if step == "goal":
        buttons = [_choice(step, k, label, current) for k, label in GOALS.items()]
        return rows_of(buttons, 1)
    if step == "band":
        return bands_keyboard(owned)
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


def bands_keyboard(owned: int) -> Keyboard:
    """Return the bands to tick (several can be), Done once one is ticked, and 'no band yet'."""
    toggles = [
        Button(
            f"✓ {BAND_LABELS[band]}" if owned >> i & 1 else BAND_LABELS[band],
            OnboardingTap("band", f"{TOGGLE_BANDS}{owned ^ (1 << i)}").encode(),
        )
        for i, band in enumerate(BANDS)
    ]
    rows = [toggles[:2], toggles[2:]]
    if owned:
        rows.append([Button(BANDS_DONE, OnboardingTap("band", f"{DONE_BANDS}{owned}").encode())])
    rows.append([_choice("band", NO_BAND, BAND_LABELS[NO_BAND], None)])
    return keyboard(rows)


def settings_menu() -> Keyboard:
    """Return the choice offered to a returning user on /start."""
    return keyboard(
        [
            [Button("Change settings", MenuTap(CHANGE).encode())],
            [Button("Keep as is", MenuTap(KEEP).encode())],
        ]
    )
