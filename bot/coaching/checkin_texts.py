"""What the bot says in the pain check-in, after it (what changed and why), and in /plan."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from bot.coaching.catalogue import Catalogue
from bot.coaching.checkin import MAX_NOTE
from bot.coaching.progression import LOW_BACK, SAME, Prescription, amount, routine_exercises
from bot.coaching.reminder_texts import local_clock, local_date
from bot.coaching.session_texts import pick_count

MARK = "🩺"  # every check-in question starts with it; what comes before it is kept on edits
PAIN_QUESTION = f"{MARK} How much pain do you feel now, from 0 (none) to 10 (worst)?"
AREAS_QUESTION = (
    f"{MARK} Pain {{pain}}/10. Where do you feel it? Tick every place, then tap “That's all”."
)
SIDE_QUESTION = f"{MARK} Pain {{pain}}/10{{where}}. Which side felt weaker or more tired?"
SAVED = f"{MARK} Check-in saved: pain {{pain}}/10{{where}} · {{side}}."
NOTE_PROMPT = f"Anything to add? Type a short note (up to {MAX_NOTE} characters), or tap “No note”."
NOTE_SAVED = "📝 Note saved ✓"
NOTE_TOO_LONG = (
    f"That note is {{length}} characters; the limit is {MAX_NOTE}. Please send a shorter one, "
    "or tap “No note”."
)
NO_NOTE_DONE = "👍 No note."
FOLLOWUP = "👋 How did your back feel after your {routine} warm-up of {day}?"
CHECKIN_FOR = "Check-in for your {routine} warm-up of {when}:"
REANSWER = (
    "You already checked in on your {routine} warm-up (pain {pain}/10). A new answer replaces "
    "that one, and your plan is worked out again from where it was before:"
)
NOTHING_TO_CHECK = "There's no warm-up waiting for a check-in. Send /warmup to start one."
FINISH_FIRST = "You're mid warm-up: finish it or tap Stop, and the check-in comes right after."
ALREADY_SAVED = "Already saved ✓"
TOO_LATE = "That check-in can't be changed any more. Send /checkin for the latest one."
NOT_YOURS = "That button isn't for you."
BAD_BUTTON = "That button doesn't work. Send /checkin to check in."
NEED_START = "Send /start to set up Band Coach first."

PAIN_LABELS: dict[int, str] = {0: "0 · none", 10: "10 · worst"}
AREA_LABELS: dict[str, str] = {
    LOW_BACK: "Low back",
    "hips": "Hips / glutes",
    "knees": "Knees",
    "shoulders": "Shoulders",
    "other": "Other",
}
THATS_ALL = "✅ That's all"
SIDE_LABELS: dict[str, str] = {"left": "⬅️ Left", "right": "Right ➡️", SAME: "Same"}
SIDE_WORDS: dict[str, str] = {
    "left": "left side weaker",
    "right": "right side weaker",
    SAME: "sides the same",
}
NO_NOTE = "No note"

CHANGES = "📋 Your next sessions:"
CHANGES_AGAIN = "📋 Worked out again with your new answer:"
SAFETY = (
    "🧘 Please rest today. Pain like this is a signal to back off, not to push through. "
    "If sharp pain persists, see a doctor or physiotherapist."
)
NEXT_REMINDER = "📅 Next session: {day} at {time} (I'll nudge you)."
NEXT_SUGGESTED = "📅 Next session: {day}. Aim for 3 sessions a week."
PICK_FROM = "You pick {count} of these moves:"
NEXT_AFTER_PAIN = "📅 Next session: once the pain has settled, and it will be a lighter deload."
MORNING_NOTE = "🌅 On {day} at {time} I'll ask how your back feels that morning."
SUGGESTED_GAP = timedelta(days=2)  # 3 sessions a week


def pain_label(pain: int) -> str:
    """Return a pain button's label."""
    return PAIN_LABELS.get(pain, str(pain))


def where(areas: Iterable[str]) -> str:
    """Return ' in the low back and knees' for the areas chosen ('' for none)."""
    names = [AREA_LABELS[a].lower() for a in AREA_LABELS if a in set(areas)]
    if not names:
        return ""
    joined = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f" · {joined}"


def with_head(head: str, question: str) -> str:
    """Return a question below what the message showed before its first check-in question."""
    return f"{head}\n\n{question}" if head else question


def head_of(text: str | None) -> str:
    """Return the part of a message before its check-in question (e.g. the session summary)."""
    return (text or "").split(MARK, 1)[0].rstrip()


def saved(pain: int, areas: Iterable[str], side: str | None) -> str:
    """Return the line confirming the answers."""
    return SAVED.format(pain=pain, where=where(areas), side=SIDE_WORDS.get(side or SAME, ""))


def next_session(
    *, deload: bool, reminder: datetime | None, zone: str, now: datetime
) -> str:  # fmt: skip
    """Return when the next session is due: the next reminder if on, else in two days."""
    if deload:
        return NEXT_AFTER_PAIN
    if reminder is not None:
        return NEXT_REMINDER.format(
            day=local_date(reminder, zone), time=local_clock(reminder, zone)
        )
    return NEXT_SUGGESTED.format(day=local_date(now + SUGGESTED_GAP, zone))


def changes(
    reasons: Sequence[str], *, safety: bool, again: bool, next_line: str, morning: str = ""
) -> str:
    """Return the message after a check-in: changes and reasons, the next session, the morning."""
    lines = [CHANGES_AGAIN if again else CHANGES, *(f"• {r}" for r in reasons)]
    if safety:
        lines += ["", SAFETY]
    return "\n".join([*lines, "", next_line, *([morning] if morning else [])])


def morning_line(due: datetime | None, zone: str) -> str:
    """Return the promise of the next-morning question ('' when none is asked)."""
    if due is None:
        return ""
    return MORNING_NOTE.format(day=local_date(due, zone), time=local_clock(due, zone))


def plan_text(catalogue: Catalogue, prescription: Prescription) -> str:
    """Return /plan: per routine its band, rounds, rest and extra side, then each exercise."""
    blocks = ["📋 Your plan (it changes after every check-in)"]
    for key, rx in prescription.routines.items():
        routine = catalogue.routine(key)
        facts = [f"{rx.band} band" if rx.band else "no band"]
        facts.append(f"{rx.rounds} round{'s' if rx.rounds != 1 else ''}")
        facts.append(f"rest {rx.rest_between_moves} s between moves")
        lines = [f"{routine.name} · {' · '.join(facts)}"]
        if rx.extra_side:
            lines.append(f"➕ One extra set on the {rx.extra_side} for per-side moves")
        if routine.choice is not None:
            lines.append(PICK_FROM.format(count=pick_count(routine.choice)))
        for exercise in routine_exercises(catalogue, routine):
            target, hold = rx.load(exercise)
            lines.append(f"• {exercise.name}: {amount(exercise, target, sides=True, hold=hold)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
