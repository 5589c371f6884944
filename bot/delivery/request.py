"""The Bot API request layer: PTB's HTTPXRequest, sending each call's parameters as JSON."""

from __future__ import annotations

import urllib.request
from typing import Any

import httpx
import orjson
from telegram.request import HTTPXRequest

JSON_HEADERS = {"Content-Type": "application/json"}
KNOWN_URLS = 256  # methods of one bot: a few dozen


class _JsonBodies(httpx.AsyncClient):
    """An httpx client that sends form fields as one JSON body, to URLs parsed once, straight
    to its transport when no proxy is in the way."""

    def __init__(self, **kwargs: Any) -> None:
        """Create the client (httpx.AsyncClient's arguments)."""
        self._direct: httpx.AsyncBaseTransport | None = None
        if _plain(kwargs):
            self._direct = kwargs.get("transport") or httpx.AsyncHTTPTransport(
                limits=kwargs["limits"],
                http1=kwargs.get("http1", True),
                http2=kwargs.get("http2", False),
            )
            kwargs["transport"] = self._direct  # the client closes it with itself
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
            if self._direct is not None and kwargs.keys() <= {"content", "timeout"}:
                return await self._send_direct(method, url, headers, kwargs)
        return await super().request(
            method, self._url(url), data=data, files=files, headers=headers, **kwargs
        )

    async def _send_direct(
        self, method: str, url: str | httpx.URL, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> httpx.Response:
        """Send a request through the transport and read its answer, as the client would.

        The Bot API sets no cookies, redirects nowhere and needs no auth: the client's handling
        of those (a cookie jar copied per request and per answer) was a tenth of a tap's CPU.
        """
        timeout = kwargs.get("timeout", self.timeout)
        request = httpx.Request(
            method, self._url(url), headers=headers, content=kwargs["content"],
            extensions={"timeout": httpx.Timeout(timeout).as_dict()},
        )  # fmt: skip
        assert self._direct is not None
        response = await self._direct.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response


# The client arguments PTB gives (any others, such as TLS settings, leave calls to the client).
PLAIN_ARGUMENTS = {"timeout", "proxy", "limits", "transport", "http1", "http2"}


def _plain(kwargs: dict[str, Any]) -> bool:
    """Return whether a client built with these arguments sends every call to one transport
    of PTB's making or the caller's: no proxy given or in the environment, no other options."""
    if kwargs.keys() - PLAIN_ARGUMENTS or "limits" not in kwargs or kwargs.get("proxy"):
        return False
    return not urllib.request.getproxies()


class BotRequest(HTTPXRequest):
    """PTB's HTTPX request layer whose calls without files go as JSON bodies."""

    def _build_client(self) -> httpx.AsyncClient:
        """Build the httpx client PTB sends through (PTB's own arguments)."""
        return _JsonBodies(**self._client_kwargs)
