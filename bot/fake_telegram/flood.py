"""Telegram's message rate limits, enforced by the fake when a test or benchmark asks for them.

Telegram answers 429 with `retry_after` to a bot that sends more than about 30 messages a
second overall, or more than about one a second to one chat (short bursts pass). Sends and
edits count. The fake models both as token buckets on its own clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    """Tokens refilled at `rate` a second up to `burst`."""

    rate: float
    burst: float
    tokens: float
    at: float

    def take(self, now: float) -> float:
        """Take a token; return 0, or the seconds until one would be there (nothing taken)."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class FloodLimits:
    """Per-bot and per-chat message budgets; `admit` says whether a send or edit may pass."""

    per_second: float = 30.0
    per_chat: float = 1.0
    chat_burst: float = 3.0  # "short bursts that go over this limit" pass
    refused: int = 0
    _bot: _Bucket | None = None
    _chats: dict[int, _Bucket] = field(default_factory=dict)

    def admit(self, chat_id: int, now: float) -> int | None:
        """Return None to let a message through, or the retry_after of a 429."""
        if self._bot is None:
            self._bot = _Bucket(self.per_second, self.per_second, self.per_second, now)
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Bucket(
                self.per_chat, self.chat_burst, self.chat_burst, now
            )
        wait = max(chat.take(now), 0.0)
        if wait:
            self.refused += 1
            return max(1, math.ceil(wait))
        wait = self._bot.take(now)
        if wait:
            chat.tokens += 1  # the chat's token was not used
            self.refused += 1
            return max(1, math.ceil(wait))
        return None
