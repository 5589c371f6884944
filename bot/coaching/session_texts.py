"""What the bot says during a guided warm-up: steps, countdowns, rests and the summary."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.coaching.catalogue import Catalogue, Choice
from bot.coaching.session import DONE, SKIPPED, PlanStep, Summary, Tick
from bot.coaching.texts import unexpected_text

CHOOSE_ROUTINE = "Which warm-up today? The first one is my suggestion for you."
SUGGESTED = "⭐ "
CHOOSE_ROUNDS = "{routine}: how many rounds? The ticked number is suggested."
SQUATS_QUESTION = (
    "{routine} has band squats. Before we add a band: are bodyweight squats, hips back with a "
    "good hinge, pain-free for you?"
)
SQUATS_YES = "✅ Yes, pain-free"
SQUATS_NOT_YET = "Not yet: glute bridges instead"
SQUATS_LATER = (
    "Glute bridges stand in for band squats until bodyweight squats are pain-free; "
    "I'll ask again in a week."
)
CHOOSE_MOVES = "{routine}: which moves today? Tick {count}, one set of each, then tap Go."
TICKED = "Ticked: {moves}."
NOTHING_TICKED = "Nothing ticked yet."
PICK_COUNT = "Tick {count} moves, then tap Go (you have {ticked} ticked)."
GO_LABEL = "▶ Go"
CHOOSE_BAND = "{routine} · {rounds} {rounds_word}. Which band are you using?"
PICK_BAND = "{routine} · {rounds} {rounds_word}. Pick the band you're using today:"
STARTING = "Let's go: {routine} · {rounds} {rounds_word} · {band} band. 💪"
ALREADY_STARTED = "Your warm-up has already started ✓"
UNDO_LABEL = "↩ Undo"
UNDONE_ALREADY = "↩ Already undone ✓"
UNDONE_STOP = "↩ Undone: back in your warm-up"
UNDO_TOO_LATE = "Too late to undo: that was more than a minute ago."
UNDO_BUSY = "You've started another warm-up meanwhile, so this one stays ended."
MY_BAND = "my band"
LIGHT_BAND = "a light band for this move"
NEED_ONBOARDING = "Let's set you up first: send /start (it takes four taps)."
ACTIVE_SESSION = "You have a warm-up in progress: {where}.\n\nResume where you left off?"
RESUME = "▶ Resume"
RESUMING = "▶ Resuming: {where}."
ABANDON = "✖ Abandon and start fresh"
ABANDONED = "Okay, that warm-up is closed; the sets you logged are kept."
SESSION_ENDED = "That session has ended. Send /warmup to start a new one."
STEP_DONE = "That step is done ✓"
NOT_YOURS = "That button isn't for you."
BAD_BUTTON = "That button doesn't work. Send /warmup to start a warm-up."
NOT_NOW = "That isn't possible right now: use the buttons on your current step."
HOW_MANY = "How many did you do? Tap a number or type it (0 to 200)."
BAD_COUNT = "“{text}” isn't a whole number from 0 to 200. How many did you do?"
MORE_THAN_TARGET = (
    "{count} is more than this set's target of {target}. Fewer is for 0 to {top}: type one of "
    "those, or tap below to log {count}."
)
LOG_MORE = "✅ Log {count}"
USE_BUTTONS = unexpected_text(
    "You're mid warm-up: use the buttons on your step (Done, Fewer, Skip or Stop)."
)
DONE_LABEL = "✅ Done"
FEWER_LABEL = "➖ Fewer"
SKIP_LABEL = "⏭ Skip"
STOP_LABEL = "⏹ Stop"
START_TIMER_LABEL = "▶ Start timer"
SKIP_REST_LABEL = "⏭ Skip rest"
BACK_LABEL = "← Back"

UNIT_WORDS: dict[str, tuple[str, str]] = {
    "reps": ("rep", "reps"),
    "steps": ("step", "steps"),
    "seconds": ("second", "seconds"),
    "hold": ("rep", "reps"),
}


def plural(count: int, unit: str) -> str:
    """Return '1 rep' or '10 reps' for a unit."""
    one, many = UNIT_WORDS.get(unit, (unit, unit))
    return f"{count} {one if count == 1 else many}"


def rounds_word(rounds: int) -> str:
    """Return 'round' or 'rounds'."""
    return "round" if rounds == 1 else "rounds"


def pick_count(choice: Choice) -> str:
    """Return how many moves to pick, e.g. '2 or 3'."""
    if choice.fewest == choice.most:
        return str(choice.fewest)
    joiner = " or " if choice.most == choice.fewest + 1 else " to "
    return f"{choice.fewest}{joiner}{choice.most}"


def names(catalogue: Catalogue, moves: Sequence[str]) -> str:
    """Return moves by name, e.g. 'Monster walks, Band squats and Pull-aparts'."""
    named = [catalogue.exercise(m).name for m in moves]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"


def moves_text(
    catalogue: Catalogue, routine_name: str, choice: Choice, moves: Sequence[str]
) -> str:
    """Return the move picker's message: how many to tick, and what is ticked."""
    ticked = TICKED.format(moves=names(catalogue, moves)) if moves else NOTHING_TICKED
    return f"{CHOOSE_MOVES.format(routine=routine_name, count=pick_count(choice))}\n\n{ticked}"


def band_text(band: str | None) -> str:
    """Return the band part of a target line."""
    return f"{band} band" if band and band != "none" else "no band"


def target_text(step: PlanStep) -> str:
    """Return the target line, e.g. '10 steps each way (forward and back) · green band'."""
    amount = plural(step.target, step.unit)
    if step.unit == "hold" and step.hold_seconds:
        amount += f", hold {step.hold_seconds} s each"
    if step.each:
        amount += f" each ({step.each})"
    return f"{amount} · {band_text(step.band)}"


def exercise_line(step: PlanStep) -> str:
    """Return the exercise with its side, e.g. 'Lateral walks · left foot leads (extra set)'."""
    side = step.side_means or (f"{step.side} side" if step.side else None)
    line = f"{step.name} · {side}" if side else step.name
    return f"{line} (extra set)" if step.extra else line


def where(routine_name: str, step: PlanStep) -> str:
    """Return the heading line, e.g. 'Lower-body activation · round 2/3 · step 4/6'."""
    return (
        f"{routine_name} · round {step.round_no}/{step.rounds} · "
        f"step {step.step_no}/{step.steps_in_round}"
    )


def step_text(routine_name: str, step: PlanStep, cues: Sequence[str]) -> str:
    """Return the message for one step: where, what, how many, band and cues."""
    cue_lines = "\n".join(f"• {c}" for c in cues)
    body = f"{where(routine_name, step)}\n\n💪 {exercise_line(step)}\n🎯 {target_text(step)}"
    if step.setup:
        body += f"\n📍 {step.setup}"
    if step.timed:
        body += "\n\nTap Start for a countdown, or Done if you timed it yourself."
    return f"{body}\n\n{cue_lines}" if cue_lines else body


def countdown_text(routine_name: str, step: PlanStep, tick: Tick) -> str:
    """Return a timed step's message while its countdown runs."""
    return (
        f"{where(routine_name, step)}\n\n💪 {exercise_line(step)}\n🎯 {target_text(step)}\n\n"
        f"⏱ {tick.label}: {tick.remaining} s"
    )


def rest_text(tick: Tick, upcoming: PlanStep) -> str:
    """Return the rest message with its countdown and what comes next."""
    new_round = upcoming.step_no == 1
    kind = f"Rest before round {upcoming.round_no}" if new_round else "Rest"
    upcoming_line = f"{exercise_line(upcoming)} · {target_text(upcoming)}"
    return f"⏸ {kind}: {tick.remaining} s\n\nNext: {upcoming_line}"


def undone_line(step: PlanStep) -> str:
    """Return the toast for a set taken back, e.g. '↩ Undone: Pull-aparts · step again'."""
    return f"↩ Undone: {exercise_line(step)}, log it again"


def logged_line(step: PlanStep, outcome: str, actual: int) -> str:
    """Return what was logged for a step, e.g. 'Pull-aparts: ✅ 10 reps'."""
    if outcome == SKIPPED:
        result = "⏭ skipped"
    elif outcome == DONE:
        result = f"✅ {plural(actual, step.unit)}"
    else:
        result = f"➖ {plural(actual, step.unit)} of {step.target}"
    return f"{exercise_line(step)}: {result}"


def duration_text(duration: timedelta) -> str:
    """Return a duration as '12 min 5 s' or '45 s'."""
    seconds = int(duration.total_seconds())
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def summary_text(summary: Summary) -> str:
    """Return the end-of-session summary."""
    heading = "🏁 Warm-up complete!" if summary.finished else "⏹ Warm-up ended early."
    totals = ", ".join(plural(v, u) for u, v in sorted(summary.totals.items())) or "nothing yet"
    lines = [
        heading,
        "",
        f"• {summary.routine_name}",
        f"• Time: {duration_text(summary.duration)}",
        f"• Sets done: {summary.done} of {summary.planned}"
        + (f" ({summary.fewer} with fewer than the target)" if summary.fewer else ""),
        f"• Skipped: {summary.skipped}",
        f"• Total: {totals}",
        f"• Band: {band_text(summary.band)}",
    ]
    return "\n".join(lines)
