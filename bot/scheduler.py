"""Recurring jobs on PTB's JobQueue (APScheduler 3). The database is the source of truth.

Jobs only poll the database for work that is due, so a restart or a second process loses and
duplicates nothing; every due item is claimed atomically in the database before it is acted on.
Each job is wrapped by bot.alerts.guarded: a failing tick (say, the database is down) is
reported once per kind per 10 minutes, not raised every second.
"""

from __future__ import annotations

import logging

from bot import reminders
from bot.alerts import guarded
from bot.clock import clock_speed
from bot.context import BandCoachApp, BandCoachContext
from bot.warmup_timers import advance_timers

logger = logging.getLogger(__name__)

# A rest that ends just after a poll waits for the next one: at 1 s a member saw the next step
# up to a second late, 1.5 s at the 7 am peak. A poll with nothing due is one indexed read.
TIMER_POLL_SECONDS = 0.1


async def timers_job(context: BandCoachContext) -> None:
    """Advance the session countdowns and rests that are due now; push their screens after."""
    if context.bot_data.timer_lock.locked():
        return  # a long pass is still running; it takes whatever fell due meanwhile
    run = await advance_timers(context.bot_data, context.clock())
    context.delivery.push_soon(run.shown)  # the job never waits on Telegram
    run.raise_first()


async def delivery_job(context: BandCoachContext) -> None:
    """Retry the live messages Telegram has not confirmed yet (in the background)."""
    context.delivery.converge_soon()  # reports its own failures and recoveries


def schedule_jobs(app: BandCoachApp) -> None:
    """Register every recurring job on the application's JobQueue."""
    if app.job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    alerts = app.bot_data.alerts
    # Polls run on the wall clock; a faster app clock (`bandcoach chat --fast`) polls as
    # much more often, so countdowns keep their resolution in app time.
    tick = 1 / clock_speed(app.bot_data.clock)
    # Features add their polling jobs here, one line each.
    poll = TIMER_POLL_SECONDS * tick
    app.job_queue.run_repeating(
        guarded(alerts, "timers", timers_job), poll, first=poll, name="session-timers",
        job_kwargs={"max_instances": 3},  # polls during a long pass return at once, unlogged
    )  # fmt: skip
    app.job_queue.run_repeating(delivery_job, tick, first=tick, name="delivery")
    # Reminder nudges and snoozes, and once at start-up for the grace rule. Jobs are added
    # before the JobQueue starts, and APScheduler then moves an interval job's first run from
    # "now" to a whole interval later; a one-off run with no misfire limit runs at the start.
    dispatch = guarded(alerts, "reminders", reminders.reminder_job)
    every = reminders.POLL_SECONDS * tick
    app.job_queue.run_repeating(
        dispatch, every, first=every, name=reminders.JOB_NAME, job_kwargs=reminders.JOB_KWARGS
    )
    app.job_queue.run_once(  # the same name: whoever stops the dispatcher stops both
        dispatch, 0, name=reminders.JOB_NAME, job_kwargs={"misfire_grace_time": None}
    )
