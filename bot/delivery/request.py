"""The Bot API request layer: PTB's HTTPXRequest, sending each call's parameters as JSON."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
from telegram.request import HTTPXRequest

JSON_HEADERS = {"Content-Type": "application/json"}
KNOWN_URLS = 256  # methods of one bot: a few dozen


class _JsonBodies(httpx.AsyncClient):
    """An httpx client that sends form fields as one JSON body, to URLs parsed once."""

    def __init__(self, **kwargs: Any) -> None:
        """Create the client (httpx.AsyncClient's arguments)."""
        super().__init__(**kwargs)
        self._urls: dict[str, httpx.URL] = {}

    def _url(self, url: str | httpx.URL) -> httpx.URL:
        """Return a URL parsed once per distinct text."""
        if isinstance(url, httpx.URL):
            return url
        found = self._urls.get(url)
        if found is None:
            if len(self._urls) >= KNOWN_URLS:
                self._urls.clear()
            found = self._urls[url] = httpx.URL(url)
        return found

    async def request(  # type: ignore[override]
        self, method: str, url: str | httpx.URL, *, data: Any = None, files: Any = None,
        headers: dict[str, str] | None = None, **kwargs: Any,
    ) -> httpx.Response:  # fmt: skip
        """Send a request; fields without files go as JSON rather than URL-encoded."""
        if data is not None and not files:
            # The Bot API reads a JSON body's string values as it reads form fields; encoding
            # one JSON document costs a fraction of percent-encoding every character.
            kwargs["content"] = orjson.dumps(data)
            headers = {**(headers or {}), **JSON_HEADERS}
            data = None
        return await super().request(
            method, self._url(url), data=data, files=files, headers=headers, **kwargs
        )


class BotRequest(HTTPXRequest):
    """PTB's HTTPX request layer whose calls without files go as JSON bodies."""

    def _build_client(self) -> httpx.AsyncClient:
        """Build the httpx client PTB sends through (PTB's own arguments)."""
        return _JsonBodies(**self._client_kwargs)
