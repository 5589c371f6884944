"""What callbacks and jobs share: a typed bot_data, and the callback context exposing it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock, system_clock

if TYPE_CHECKING:
    from bot.alerts import Alerts
    from bot.coaching.catalogue import Catalogue
    from bot.config import Settings
    from bot.delivery import Delivery
    from storage.db import Database

Sleep = Callable[[float], Awaitable[None]]


class BotData:
    """The application's shared parts, set once by build_application (PTB creates it empty)."""

    settings: Settings
    catalogue: Catalogue
    db: Database
    delivery: Delivery
    alerts: Alerts

    def __init__(self) -> None:
        """Start with the system clock and real sleeps; build_application fills in the rest."""
        self.clock: Clock = system_clock
        # Waits between retries; tests put one here that moves a ManualClock instead.
        self.sleep: Sleep = asyncio.sleep
        self.timer_lock = asyncio.Lock()
        # Charts are drawn in worker threads; two at a time leave the loop its share of the CPU.
        self.render_slots = asyncio.Semaphore(2)
        self.idle_sweep_at: datetime | None = None
        # Set as the application stops: long jobs (a reminder broadcast) end early and hand
        # what they have not done back to the database, instead of holding up the shutdown.
        self.stopping = False


class BandCoachContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """Callback context exposing the shared parts by name."""

    @property
    def db(self) -> Database:
        """Return the application's database."""
        return self.bot_data.db

    @property
    def clock(self) -> Clock:
        """Return the application's clock (injectable in tests)."""
        return self.bot_data.clock

    @property
    def settings(self) -> Settings:
        """Return the application's settings."""
        return self.bot_data.settings

    @property
    def catalogue(self) -> Catalogue:
        """Return the exercise and routine catalogue loaded at start-up."""
        return self.bot_data.catalogue

    @property
    def delivery(self) -> Delivery:
        """Return the delivery layer, the only way to send or edit messages."""
        return self.bot_data.delivery


BandCoachApp = Application[
    ExtBot[Any], BandCoachContext, dict[Any, Any], dict[Any, Any], BotData, Any
]
