"""The callback context handlers receive: PTB's, plus the database and settings."""

from __future__ import annotations

from typing import Any, cast

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.coaching.catalogue import Catalogue
from bot.config import Settings
from storage.db import Database

CATALOGUE_KEY = "catalogue"
CLOCK_KEY = "clock"
DB_KEY = "db"
SETTINGS_KEY = "settings"


class BandCoachContext(
    CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
):
    """Callback context exposing the shared Database and Settings."""

    @property
    def db(self) -> Database:
        """Return the application's database."""
        return cast(Database, self.bot_data[DB_KEY])

    @property
    def clock(self) -> Clock:
        """Return the application's clock (injectable in tests)."""
        return cast(Clock, self.bot_data[CLOCK_KEY])

    @property
    def settings(self) -> Settings:
        """Return the application's settings."""
        return cast(Settings, self.bot_data[SETTINGS_KEY])

    @property
    def catalogue(self) -> Catalogue:
        """Return the exercise and routine catalogue loaded at start-up."""
        return cast(Catalogue, self.bot_data[CATALOGUE_KEY])


BandCoachApp = Application[
    ExtBot[Any], BandCoachContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
