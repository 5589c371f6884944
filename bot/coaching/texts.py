"""What the bot says: onboarding, help, safety and fallback copy."""

from __future__ import annotations

from datetime import time

from bot.coaching.profile import BAND_LABELS, GOALS, NO_BAND, format_days

# (command, description) in the order /help and Telegram's menu show them.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Set up Band Coach or change your settings"),
    ("warmup", "Start a guided warm-up"),
    ("help", "What I can do"),
    ("progress", "Your streak, targets and pain trend, with a chart"),
    ("history", "Your past sessions"),
    ("checkin", "Pain check-in for your last warm-up"),
    ("plan", "Your current targets, bands and rests"),
    ("reminders", "Change reminder days, time or time zone"),
    ("settings", "Goal, bands, reminders and your data"),
    ("summary", "A one-page summary to share with your physio"),
    ("export", "Your sets and check-ins as CSV files"),
    ("deletedata", "Delete everything Band Coach keeps about you"),
)
# Published in the menus of the coaches in ADMIN_USER_IDS only (and answered only for them).
COACH_COMMANDS: tuple[tuple[str, str], ...] = (("stats", "Coach: members, activity and pain"),)

ONBOARDING_STEPS: tuple[str, ...] = ("goal", "band", "schedule", "timezone")

INTRO = (
    "👋 Hi {name}! I'm Band Coach. I walk you through a short mini-band warm-up for your "
    "glutes and upper back, nudge you 3 times a week, and adjust your plan from your reps "
    "and how your back feels."
)

SAFETY = (
    "⚠️ Band Coach is not medical advice. Stop at once if you feel sharp pain, and see a "
    "professional if pain persists."
)

QUESTIONS: dict[str, str] = {
    "goal": "What's your main goal?",
    "band": (
        "Which mini-bands do you have? Tick every colour you own, then tap Save. From lightest "
        "to heaviest: yellow, green, blue, black. You start on the lightest you tick; new to "
        "bands? Yellow or green is a good start."
    ),
    "schedule": (
        "When should I nudge you? Three sessions a week is the minimum that works.\n"
        "Tap a schedule, or type a time like 06:30 for Mon, Wed and Fri."
    ),
    "timezone": (
        "Last one: your time zone, so reminders arrive at your local time.\n"
        "Tap one, or type its name (e.g. Europe/Berlin or just Berlin). "
        "You can change it later."
    ),
}

# One answer to typed text nobody asked for, wherever it comes: what to do next, and /help.
UNEXPECTED = "I didn't expect a message there. {next_step} Send /help to see everything I can do."


def unexpected_text(next_step: str) -> str:
    """Return the answer to unexpected typed text, with the next step for where the member is."""
    return UNEXPECTED.format(next_step=next_step)


TAP_PLEASE = unexpected_text("Tap one of the buttons below 👇 to answer.")
UNKNOWN_ZONE = (
    "I couldn't find a time zone called “{text}”. Type a name like Europe/Berlin or "
    "America/New_York, or tap one below."
)
BAD_TIME = "“{text}” isn't a time I understand. Type it like 06:30 or 7:30pm, or tap a schedule."
NOW = "Now: {value}. Tap it to keep it, or pick another."
NOW_BANDS = "Now: {value}. Tap Save to keep them, or tick and untick colours first."
STALE_BUTTON = "That button is out of date. Here's where we are now."
ALREADY_DONE = "Already saved ✓"
UNKNOWN_BUTTON = "That button no longer works. Send /help to see what I can do."
NEED_START = "Hi! Send /start to set up Band Coach first."
UNKNOWN_TEXT = unexpected_text("To train, send /warmup; to check in, send /checkin.")
PRIVATE_ONLY = (
    "I coach each member one to one, so let's talk in a private chat: {link}\n"
    "(Nothing said in this group is saved.)"
)
UNKNOWN_COMMAND = "I don't know {command}. Here's what I can do:\n\n{commands}"
UNSUPPORTED = "I can only read text and button taps. Send /help to see what I can do."
KEPT = "👍 Nothing changed. Send /help any time."
SAVED = "Saved ✓"
SETTINGS_HEADING = "⚙️ Your settings"
WELCOME_BACK = "Welcome back, {name}! Your settings:"
DATABASE_LOCKED = (
    "The database is busy right now, so that didn't go through. Please try again in a moment."
)
DATABASE_BUSY = (
    "I can't reach my database right now, so that didn't go through. Please try again in a minute."
)
ERROR = (
    "Sorry, something went wrong on my side. Everything you logged so far is saved; "
    "please try again in a moment."
)


def progress(step: str) -> str:
    """Return 'Step 2 of 4' for an onboarding step."""
    return f"Step {ONBOARDING_STEPS.index(step) + 1} of {len(ONBOARDING_STEPS)}"


def question(step: str, *, intro: str | None = None, alone: bool = False) -> str:
    """Return an onboarding question with its progress line (and the intro before the first).

    `alone` asks it on its own, from /settings, without the progress line.
    """
    body = QUESTIONS[step] if alone else f"{progress(step)} · {QUESTIONS[step]}"
    return f"{intro}\n\n{body}" if intro else body


def band_label(band: str | None) -> str:
    """Return a band colour for display."""
    return BAND_LABELS.get(band or NO_BAND, "No band yet")


def schedule_label(days_mask: int, at: time, enabled: bool) -> str:
    """Return a reminder schedule for display."""
    if not enabled:
        return "off (turn on any time)"
    return f"{format_days(days_mask)} at {at:%H:%M}"


def summary(
    *, goal: str | None, band: str | None, schedule: str, timezone: str, heading: str
) -> str:
    """Return the settings summary shown after onboarding and on a repeated /start."""
    return (
        f"{heading}\n\n"
        f"• Goal: {GOALS.get(goal or '', 'not set')}\n"
        f"• Band: {band_label(band)}\n"
        f"• Reminders: {schedule}\n"
        f"• Time zone: {timezone}"
    )


def help_text(*, coach: bool = False) -> str:
    """Return the /help message listing every command (a coach's commands too for a coach)."""
    commands = COMMANDS + COACH_COMMANDS if coach else COMMANDS
    lines = "\n".join(f"/{name} – {desc}" for name, desc in commands)
    return f"Here's what I can do:\n\n{lines}\n\n{SAFETY}"


def command_list() -> str:
    """Return the commands as lines for fallback messages."""
    return "\n".join(f"/{name} – {desc}" for name, desc in COMMANDS)
