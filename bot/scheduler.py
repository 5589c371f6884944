"""Recurring jobs on PTB's JobQueue (APScheduler 3). The database is the source of truth.

Jobs only poll the database for work that is due, so a restart or a second process loses and
duplicates nothing; every due item is claimed atomically in the database before it is acted on.
"""

from __future__ import annotations

import logging

from bot.context import BandCoachApp

logger = logging.getLogger(__name__)


def schedule_jobs(app: BandCoachApp) -> None:
    """Register every recurring job on the application's JobQueue."""
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    # Features add their polling jobs here, one line each.
