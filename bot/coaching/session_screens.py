"""What a guided session's live message shows in each state, as plain screens."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.coaching import session_keyboards as kb
from bot.coaching import session_texts as t
from bot.coaching.catalogue import Catalogue
from bot.coaching.checkin_keyboards import first_question
from bot.coaching.screen import Screen, keyboard
from bot.coaching.session import (
    FEWER,
    REST,
    LoggedSet,
    Plan,
    countdown,
    parse_phase,
    rest_segments,
    summarise,
    work_segments,
)

INTRO_KEY = "intro"  # plan JSON entry: the start message, shown above the first step


@dataclass(frozen=True)
class SessionState:
    """The stored state a session screen is drawn from."""

    session_id: int
    plan: dict[str, Any]
    position: int
    phase: str
    timer_due_at: datetime | None
    undo_until: datetime | None = None  # Undo is offered until then (a minute after a set)


def _cues(catalogue: Catalogue, exercise: str) -> tuple[str, ...]:
    """Return an exercise's cues, or none if the catalogue no longer has it."""
    found = catalogue.exercises.get(exercise)
    return found.cues if found else ()


def session_screen(catalogue: Catalogue, state: SessionState, now: datetime) -> Screen:
    """Return what the session's message shows now: a step, a countdown, a rest or Fewer."""
    plan = Plan.from_json(state.plan)
    step = plan.steps[state.position]
    sid, pos = state.session_id, state.position
    undo = state.undo_until is not None and now < state.undo_until
    timer = parse_phase(state.phase)
    if timer is not None and state.timer_due_at is not None:
        started = timer.started_at(state.timer_due_at)
        if timer.kind == REST:
            tick = countdown(started, rest_segments(plan.steps[pos - 1].rest_after), now)
            if not tick.finished:
                return Screen(t.rest_text(tick, step), kb.rest_keyboard(sid, pos, undo))
        else:
            tick = countdown(started, work_segments(step), now)
            if not tick.finished:
                text = t.countdown_text(plan.routine_name, step, tick)
                return Screen(_intro(state, text), kb.countdown_keyboard(sid, pos))
    text = _intro(state, t.step_text(plan.routine_name, step, _cues(catalogue, step.exercise)))
    if state.phase == FEWER:
        return Screen(f"{text}\n\n{t.HOW_MANY}", kb.fewer_keyboard(sid, step))
    return Screen(text, kb.step_keyboard(sid, step, undo))


def _intro(state: SessionState, text: str) -> str:
    """Put the start message above the first step."""
    intro = state.plan.get(INTRO_KEY) if state.position == 0 else None
    return f"{intro}\n\n{text}" if intro else text


def summary_screen(
    state: SessionState,
    sets: Iterable[LoggedSet],
    started_at: datetime,
    now: datetime,
    *,
    finished: bool,
) -> Screen:
    """Return the end-of-session summary with the first check-in question below it."""
    plan = Plan.from_json(state.plan)
    summary = summarise(plan, sets, started_at, now, finished=finished)
    screen = first_question(state.session_id, t.summary_text(summary))
    undo = kb.undo_row(state.session_id, state.position, True)  # a Stop or the last set
    return Screen(screen.text, keyboard([*screen.keyboard, *undo]))
