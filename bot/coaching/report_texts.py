"""What /progress, /history and /export say, and the CSV files. Pure."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.coaching.adherence import Adherence
from bot.coaching.catalogue import Catalogue
from bot.coaching.checkin_texts import AREA_LABELS
from bot.coaching.profile import BAND_LABELS
from bot.coaching.report_data import CheckinRow, SessionLine, SetRow
from bot.coaching.states import SessionStatus

NO_DATA = (
    "📈 Nothing to chart yet. Finish a warm-up with /warmup and check in afterwards: your "
    "progress, streak and pain trend show up here from the first session."
)
NO_SESSIONS = "🗓 No sessions yet. Send /warmup to start your first one."
NO_EXPORT = "📤 Nothing to export yet: no sets or check-ins are saved for you."
EXPORTED = (
    "📤 Your data as CSV (UTF-8, opens in any spreadsheet): {sets} sets, {checkins} check-ins."
)
SUMMARY_CAPTION = (
    "📄 Your summary of the last {weeks} weeks, ready to forward to your physio or coach."
)
CHART_CAPTION = "📈 Targets over time (dots in your band's colour) and pain per check-in."
SUMMARY_BUTTON = "📄 One-page summary to share"
STALE_PAGE = "That page is out of date. Here are your latest sessions."
WORKING = "⏳ Drawing your chart…"

SCORE_HINT = "every session lifts it up to 3 a week; it fades slowly when you stop"
STATUS_WORDS = {
    SessionStatus.COMPLETED: "finished",
    SessionStatus.STOPPED: "stopped early",
    SessionStatus.ABANDONED: "left unfinished",
    SessionStatus.ACTIVE: "in progress",
}
SIDE_NAMES = {"left": "left", "right": "right", "same": "same"}


def local(at: datetime, zone: str) -> datetime:
    """Return a UTC instant in a time zone."""
    return at.astimezone(ZoneInfo(zone))


def plural(count: int, word: str) -> str:
    """Return '1 session' or '3 sessions'."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def week_dots(done: int, goal: int) -> str:
    """Return ✅ per session this week and ▫️ per one still to go."""
    return "✅" * min(done, goal) + "▫️" * max(goal - done, 0) + "➕" * max(done - goal, 0)


def pain_trend(weeks: Sequence[float | None]) -> str:
    """Return the weekly pain averages and which way they go."""
    shown = " → ".join("–" if p is None else f"{p:.1f}" for p in weeks)
    known = [p for p in weeks if p is not None]
    if not known:
        return "no check-ins in the last 4 weeks"
    if len(known) > 1 and known[-1] <= known[0] - 1:
        way = "easing ↓"
    elif len(known) > 1 and known[-1] >= known[0] + 1:
        way = "rising ↑, take it easy"
    else:
        way = "steady"
    return f"{shown} ({way})"


def balance(sides: Iterable[str | None]) -> str:
    """Return how often each side was reported weaker."""
    counts = Counter(s for s in sides if s)
    if not counts:
        return "no side reported yet"
    parts = [f"{SIDE_NAMES[s]} {counts[s]}×" for s in ("left", "right", "same") if counts[s]]
    lean = ""
    if counts["left"] >= counts["right"] + 2:
        lean = ": your left needs a little more"
    elif counts["right"] >= counts["left"] + 2:
        lean = ": your right needs a little more"
    return ", ".join(parts) + lean


def progress_text(
    name: str,
    adh: Adherence,
    targets: Sequence[tuple[str, str, str | None]],
    weekly_pain: Sequence[float | None],
    sides: Sequence[str | None],
) -> str:
    """Return the /progress summary: this week, streak, score, targets, pain and balance."""
    streak = plural(adh.streak_weeks, "week")
    lines = [
        f"📈 Your progress, {name}" if name else "📈 Your progress",
        "",
        f"This week: {adh.this_week} of {adh.goal} sessions {week_dots(adh.this_week, adh.goal)}",
        f"🔥 Weekly streak: {streak} (a week with {adh.goal} sessions keeps it going)",
        f"💯 Consistency: {adh.score}/100 ({SCORE_HINT})",
    ]
    if targets:
        lines += ["", "🎯 Targets now:"]
        lines += [
            f"• {ex}: {amount}" + (f" · {band}" if band else "") for ex, amount, band in targets
        ]
    lines += ["", f"🩹 Pain, weekly average over 4 weeks: {pain_trend(weekly_pain)}"]
    lines.append(f"⚖️ Weaker side (last {len(sides)} check-ins): {balance(sides)}")
    return "\n".join(lines)


def band_words(band: str | None) -> str:
    """Return a band as shown in lists ('🟢 Green'), or '' for none."""
    return BAND_LABELS.get(band, "") if band else ""


def history_line(catalogue: Catalogue, line: SessionLine) -> str:
    """Return one session of /history: local date, routine, sets, band and pain."""
    when = local(line.started_at, line.timezone)
    routine = catalogue.routines.get(line.routine_key)
    title = routine.name if routine is not None else line.routine_key
    facts = [f"✅ {plural(line.done, 'set')} done"]
    if line.skipped:
        facts.append(f"⏭ {line.skipped} skipped")
    if line.band:
        facts.append(band_words(line.band))
    facts.append(f"pain {line.pain}/10" if line.pain is not None else "no check-in")
    status = STATUS_WORDS.get(SessionStatus(line.status), line.status)
    return f"{when:%a %d %b %Y · %H:%M} · {title} ({status})\n   " + " · ".join(facts)


def history_text(catalogue: Catalogue, lines: Sequence[SessionLine], first: int, total: int) -> str:
    """Return one /history page (sessions `first`+1 … of `total`, newest first)."""
    head = f"🗓 Your sessions, newest first ({first + 1}-{first + len(lines)} of {total})"
    return "\n\n".join([head, *(history_line(catalogue, line) for line in lines)])


SET_COLUMNS = (
    "date", "time", "time_zone", "routine", "exercise", "side", "round", "target", "done",
    "unit", "band", "outcome",
)  # fmt: skip
CHECKIN_COLUMNS = (
    "date", "time", "time_zone", "pain", "areas", "weaker_side", "note", "next_morning",
)  # fmt: skip


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """Return rows as a UTF-8 CSV file with a header row (a BOM, so spreadsheets read UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def sets_csv(catalogue: Catalogue, rows: Iterable[SetRow]) -> bytes:
    """Return one CSV row per logged set, in local date and time."""

    def name_of(key: str) -> str:
        exercise = catalogue.exercises.get(key)
        return exercise.name if exercise is not None else key

    def routine_of(key: str) -> str:
        routine = catalogue.routines.get(key)
        return routine.name if routine is not None else key

    def row(r: SetRow) -> list[object]:
        at = local(r.logged_at, r.timezone)
        return [
            at.date().isoformat(), at.strftime("%H:%M:%S"), r.timezone, routine_of(r.routine_key),
            name_of(r.exercise_key), r.side or "", r.round_no, r.target, r.actual, r.unit,
            r.band or "", r.outcome,
        ]  # fmt: skip

    return _csv(SET_COLUMNS, (row(r) for r in rows))


def areas_words(areas: str) -> str:
    """Return stored areas ('low_back,knees') as words separated by '; '."""
    keys = [a for a in areas.split(",") if a]
    return "; ".join(AREA_LABELS.get(a, a) for a in keys)


def checkins_csv(rows: Iterable[CheckinRow]) -> bytes:
    """Return one CSV row per check-in, in local date and time."""

    def row(r: CheckinRow) -> list[object]:
        at = local(r.created_at, r.timezone)
        return [
            at.date().isoformat(), at.strftime("%H:%M:%S"), r.timezone, r.pain,
            areas_words(r.areas), r.weaker_side or "", r.note or "", r.morning or "",
        ]  # fmt: skip

    return _csv(CHECKIN_COLUMNS, (row(r) for r in rows))
