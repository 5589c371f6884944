"""Telegram's side of a webhook: POST each update to the bot, again until it answers 200."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookPoster:
    """Deliver a fake's updates to webhooks, taking turns between them, like a load balancer.

    Set it as `FakeTelegram.on_update`. An update that gets no 200 (refused, a 5xx, a dropped
    connection, an instance going down) is posted again to the next webhook, as Telegram does.
    """

    def __init__(
        self, urls: Sequence[str], secret: str, *, attempts: int = 600, pause: float = 0.1
    ) -> None:
        """Post to these webhook URLs with this secret token."""
        self.urls, self.secret = list(urls), secret
        self.attempts, self.pause = attempts, pause
        self.turn = 0
        self.answers: list[tuple[str, int]] = []  # (url, HTTP status or 0 for no answer)
        self.answered = asyncio.Event()  # set at every answer; clear it to wait for the next
        self._client = httpx.AsyncClient(timeout=60)

    async def __call__(self, update: dict[str, Any]) -> None:
        """Post one update until a webhook answers 200."""
        for _ in range(self.attempts):
            url = self.urls[self.turn % len(self.urls)]
            self.turn += 1
            try:
                response = await self._client.post(
                    url, json=update, headers={SECRET_HEADER: self.secret}
                )
                status = response.status_code
            except httpx.TransportError:
                status = 0
            self.answers.append((url, status))
            self.answered.set()
            if status == 200:
                return
            await asyncio.sleep(self.pause)  # Telegram waits a little before each retry
        raise AssertionError(f"update {update.get('update_id')} was never accepted")

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()
