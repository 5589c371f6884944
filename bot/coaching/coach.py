"""The coach's view: pain alerts and /stats, as texts and keys. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from bot.coaching.checkin_texts import AREA_LABELS

HIGH_PAIN = 6  # red on the physiotherapy traffic-light charts, as in the progression rules
PAIN_ALERT, WORSE_ALERT = "pa", "pw"
ALERT_KINDS = (PAIN_ALERT, WORSE_ALERT)

NOT_AVAILABLE = "Sorry, that isn't available. Send /help to see what I can do."
ALERTS_ON = "🔔 Pain alerts: on"
ALERTS_OFF = "🔕 Pain alerts: off"
ALERTS_NOW_ON = (
    "🔔 Pain alerts are on: a check-in with pain of 6 or more, or a “worse” morning, "
    "reaches you at once."
)
ALERTS_NOW_OFF = "🔕 Pain alerts are off."


def alert_key(kind: str, session_id: int) -> str:
    """Return the live-message key of one alert about one session's check-in (one per coach)."""
    return f"{kind}{session_id}"


def area_words(areas: Iterable[str]) -> str:
    """Return areas as words ('low back, knees'), or 'no area named'."""
    chosen = set(areas)
    names = [label.lower() for key, label in AREA_LABELS.items() if key in chosen]
    return ", ".join(names) or "no area named"


def pain_alert(name: str, pain: int, areas: Iterable[str]) -> str:
    """Return the alert a coach gets for a check-in with high pain."""
    return f"🚨 {name or 'A member'} reported pain {pain}/10 after a session ({area_words(areas)})."


def worse_alert(name: str, pain: int, areas: Iterable[str]) -> str:
    """Return the alert a coach gets when a member's back feels worse the next morning."""
    return (
        f"🚨 {name or 'A member'}'s back feels worse this morning, after pain {pain}/10 "
        f"({area_words(areas)}) in the last session."
    )


@dataclass(frozen=True)
class Stats:
    """What /stats reports about every member."""

    members: int
    active: int  # trained in the last 7 days
    sessions_week: int  # sessions since Monday, in the coach's zone
    on_track: int  # of the active: 3 or more sessions in the last 7 days
    blocked: int
    high_pain: Sequence[tuple[str, date, int]]  # first name, local day, pain


def share(part: int, whole: int) -> str:
    """Return a share as a whole percentage ('—' of nothing)."""
    return f"{round(100 * part / whole)} %" if whole else "—"


def stats_text(stats: Stats) -> str:
    """Return the /stats message."""
    lines = [
        "📊 Band Coach members",
        f"• Members: {stats.members}",
        f"• Active in the last 7 days: {stats.active}",
        f"• Sessions this week: {stats.sessions_week}",
        f"• Active members on track for 3 a week: {share(stats.on_track, stats.active)}"
        " (3+ sessions in the last 7 days)",
        f"• Blocked the bot: {share(stats.blocked, stats.members)} ({stats.blocked})",
    ]
    if stats.high_pain:
        lines.append(f"\n🚨 Pain of {HIGH_PAIN} or more in the last 7 days:")
        lines += [
            f"• {name or 'A member'}: {pain}/10 on {day:%a %d %b}"
            for name, day, pain in stats.high_pain
        ]
    else:
        lines.append(f"\nNo pain of {HIGH_PAIN} or more in the last 7 days.")
    return "\n".join(lines)
