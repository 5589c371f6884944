"""The delivery layer: the only code that sends or edits Telegram messages."""

from bot.delivery.core import Delivery
from bot.delivery.lanes import Lane, LaneLimiter

__all__ = ["Delivery", "Lane", "LaneLimiter"]
