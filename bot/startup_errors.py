"""Start-up failures as one line for the operator: which setting, and the likely fix."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy.exc
from sqlalchemy.engine import make_url
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.alerts import short_message
from bot.config import Settings


def _database(settings: Settings) -> str:
    """Return the database URL with any password hidden."""
    try:
        url = make_url(settings.async_database_url())
    except Exception:
        return "DATABASE_URL"
    return url.render_as_string(hide_password=True)


def _api_host(settings: Settings) -> str:
    """Return the host of the Bot API base URL."""
    return urlsplit(settings.telegram_api_base_url).netloc or settings.telegram_api_base_url


def explain(exc: BaseException, settings: Settings) -> str | None:
    """Return one line explaining a start-up failure, or None if it is not a known kind."""
    secrets = tuple(
        token.get_secret_value() for token in (settings.telegram_bot_token,) if token is not None
    )
    if isinstance(exc, InvalidToken):
        return (
            f"Telegram ({_api_host(settings)}) rejected TELEGRAM_BOT_TOKEN: check the token "
            "@BotFather gave you, and TELEGRAM_API_BASE_URL if you set it."
        )
    if isinstance(exc, NetworkError | TelegramError):
        return (
            f"cannot reach the Telegram Bot API at {_api_host(settings)} "
            f"({short_message(exc, secrets)}): check the network, or TELEGRAM_API_BASE_URL."
        )
    if isinstance(exc, sqlalchemy.exc.SQLAlchemyError | OSError):
        return (
            f"cannot open the database {_database(settings)} ({short_message(exc, secrets)}): "
            "check DATABASE_URL and that the server is running and reachable."
        )
    return None
