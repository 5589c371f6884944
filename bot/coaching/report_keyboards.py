"""Buttons of /progress and /history, and their compact callback data."""

from __future__ import annotations

from dataclasses import dataclass

from bot.coaching import report_texts as rt
from bot.coaching.screen import Button, Keyboard, keyboard

REPORTS = "rp"
SUMMARY = "sum"
PAGE = "pg"
OLDER, NEWER = "⬅️ Older", "Newer ➡️"
MAX_PAGE = 10_000


@dataclass(frozen=True)
class ReportTap:
    """A tap on a report button: rp:sum, or rp:pg:<page>:<total sessions when drawn>."""

    action: str
    page: int = 0
    total: int = 0

    def encode(self) -> str:
        """Return the callback data."""
        if self.action == PAGE:
            return f"{REPORTS}:{PAGE}:{self.page}:{self.total}"
        return f"{REPORTS}:{self.action}"

    @classmethod
    def parse(cls, data: str) -> ReportTap | None:
        """Return the tap in callback data, or None if it is not one this version makes."""
        parts = data.split(":")
        if parts == [REPORTS, SUMMARY]:
            return cls(SUMMARY)
        if len(parts) != 4 or parts[:2] != [REPORTS, PAGE]:
            return None
        numbers = parts[2:]
        if not all(n.isascii() and n.isdigit() and len(n) <= 9 for n in numbers):
            return None
        page, total = (int(n) for n in numbers)
        return cls(PAGE, page, total) if page <= MAX_PAGE else None


def summary_keyboard() -> Keyboard:
    """Return the button under the /progress chart that sends the one-page summary."""
    return keyboard([[Button(rt.SUMMARY_BUTTON, ReportTap(SUMMARY).encode())]])


def history_keyboard(page: int, pages: int, total: int) -> Keyboard:
    """Return older/newer buttons for a /history page (page 0 is the newest)."""
    row = []
    if page + 1 < pages:
        row.append(Button(OLDER, ReportTap(PAGE, page + 1, total).encode()))
    if page > 0:
        row.append(Button(NEWER, ReportTap(PAGE, page - 1, total).encode()))
    return keyboard([row])
