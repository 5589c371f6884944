"""The nudge names the routine due with the user's own prescribed targets, rounds and band."""

from __future__ import annotations

from dataclasses import replace

from bot.coaching import reminder_texts
from bot.coaching.catalogue import load_catalogue
from bot.coaching.progression import Prescription, prescription_for
from bot.coaching.session import suggest_routine

CAT = load_catalogue()


def test_nudge_without_a_prescription_uses_the_catalogue_targets() -> None:
    routine = suggest_routine(CAT, "lift", None)
    text = reminder_texts.nudge(name="Sam", goal="lift", band="green", catalogue=CAT)
    assert routine.name in text
    first = CAT.exercise(routine.steps[0].exercise)
    assert f"{first.name}: {routine.steps[0].target} " in text


def test_nudge_shows_the_prescribed_targets_rounds_and_band() -> None:
    routine = suggest_routine(CAT, "lift", None)
    base = prescription_for(CAT, "green")
    rx = base.routine(routine.key)
    first = routine.steps[0].exercise
    grown = replace(rx, targets={**rx.targets, first: 13}, rounds=3, band="blue")
    prescription = Prescription({**base.routines, routine.key: grown})
    text = reminder_texts.nudge(
        name="Sam", goal="lift", band="green", catalogue=CAT, prescription=prescription
    )
    assert f"• {CAT.exercise(first).name}: 13 " in text
    assert f"Today: {routine.name} · 3 rounds · 🔵 Blue band" in text


def test_a_one_round_routine_says_round() -> None:
    quick = CAT.routine("quick")
    plain = replace(CAT, routines={k: replace(r, suggested=False) for k, r in CAT.routines.items()})
    assert quick.rounds == 1 and suggest_routine(plain, "lift", "superset").key == "quick"
    text = reminder_texts.nudge(
        name="Sam", goal="lift", band=None, catalogue=plain, last_routine="superset"
    )
    assert f"Today: {quick.name} · 1 round\n" in text
