"""Recurring jobs on PTB's JobQueue (APScheduler 3). The database is the source of truth.

Jobs only poll the database for work that is due, so a restart or a second process loses and
duplicates nothing; every due item is claimed atomically in the database before it is acted on.
"""

from __future__ import annotations

import logging

from bot import reminders
from bot.clock import clock_speed
from bot.context import CLOCK_KEY, BandCoachApp
from handlers import session

logger = logging.getLogger(__name__)


def schedule_jobs(app: BandCoachApp) -> None:
    """Register every recurring job on the application's JobQueue."""
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    # Polls run on the wall clock; a faster app clock (`bandcoach chat --fast`) polls as
    # much more often, so countdowns keep their resolution in app time.
    tick = 1 / clock_speed(app.bot_data.get(CLOCK_KEY))
    # Features add their polling jobs here, one line each.
    app.job_queue.run_repeating(session.timers_job, tick, first=tick, name="session-timers")
    # Reminder nudges and snoozes; first=0 also runs it at start-up for the grace rule.
    app.job_queue.run_repeating(
        reminders.reminder_job,
        reminders.POLL_SECONDS * tick,
        first=0,
        name=reminders.JOB_NAME,
        job_kwargs=reminders.JOB_KWARGS,
    )
