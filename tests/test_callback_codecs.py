"""Every button family's callback data: one typed codec each, round-trips, 1-64 bytes."""

from __future__ import annotations

import pytest

from bot.coaching import checkin, session, setup
from bot.coaching.catalogue import load_catalogue
from bot.coaching.morning import WORSE, MorningTap
from bot.coaching.onboarding_keyboards import MenuTap, OnboardingTap
from bot.coaching.reminder_keyboards import NudgeTap, SettingsTap
from bot.coaching.screen import Button

CAT = load_catalogue()
BIG = 10**18 - 1  # the largest id a BIGINT column hands out that the codecs accept

ROUND_TRIPS = [
    (OnboardingTap("timezone", "America/Argentina/Buenos_Aires"), OnboardingTap.parse),
    (MenuTap("change"), MenuTap.parse),
    (NudgeTap("sn", BIG), NudgeTap.parse),
    (SettingsTap("zone", "Europe/London"), SettingsTap.parse),
    (SettingsTap("menu"), SettingsTap.parse),
    (session.Tap(BIG, 9999, "count", 200), session.parse_tap),
    (checkin.Tap(BIG, checkin.SIDE, 10, checkin.ALL_AREAS, "left"), checkin.parse_tap),
    (setup.SetupTap(setup.ABANDON, session_id=BIG), lambda d: setup.parse_setup(CAT, d)),
    (MorningTap(BIG, WORSE), MorningTap.parse),
]


@pytest.mark.parametrize(("tap", "parse"), ROUND_TRIPS, ids=lambda x: type(x).__name__)
def test_each_codec_round_trips_its_largest_value_within_64_bytes(
    tap: object, parse: object
) -> None:
    data = tap.encode()  # type: ignore[attr-defined]
    assert 1 <= len(data.encode()) <= 64
    assert parse(data) == tap  # type: ignore[operator]


@pytest.mark.parametrize(
    ("parse", "data"),
    [
        (OnboardingTap.parse, "ob:goal"),
        (OnboardingTap.parse, "st:goal:lift"),
        (MenuTap.parse, "st:maybe"),
        (NudgeTap.parse, "rm:go:12x"),
        (NudgeTap.parse, "rm:zz:12"),
        (NudgeTap.parse, "rm:go:" + "9" * 19),
        (SettingsTap.parse, "rs:"),
        (SettingsTap.parse, "rm:menu"),
        (MorningTap.parse, "mo:12:x"),
        (MorningTap.parse, "mo:12"),
        (MorningTap.parse, "mo:" + "9" * 19 + ":w"),
    ],
)
def test_malformed_data_is_refused(parse: object, data: str) -> None:
    assert parse(data) is None  # type: ignore[operator]


@pytest.mark.parametrize("data", ["", "x" * 65, "é" * 33])
def test_a_button_refuses_data_telegram_would_reject(data: str) -> None:
    with pytest.raises(ValueError, match="1-64 bytes"):
        Button("label", data)
