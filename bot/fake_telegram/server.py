"""A real loopback HTTP server speaking the Bot API, backed by a FakeTelegram."""

from __future__ import annotations

import asyncio
import logging
import socket
from types import TracebackType
from typing import Any, Self

import tornado.httpserver
import tornado.netutil
import tornado.web

from .errors import INTERNAL_SERVER_ERROR
from .state import FakeTelegram

_LOGGER = logging.getLogger(__name__)


class _BotApiHandler(tornado.web.RequestHandler):
    """Tornado handler forwarding every request to FakeTelegram.handle_http."""

    def initialize(self, fake: FakeTelegram, errors: list[BaseException]) -> None:
        """Receive the fake and the server's error sink."""
        self._fake = fake
        self._errors = errors
        self._task: asyncio.Future[tuple[int, bytes]] | None = None

    async def _serve(self, *args: Any) -> None:
        """Run the request through the fake and write its JSON response."""
        request = self.request
        if self._fake.offline:
            self._hang_up()
            return
        self._task = asyncio.ensure_future(
            self._fake.handle_http(
                request.method or "GET", request.uri or "/", request.headers, request.body
            )
        )
        try:
            status, payload = await self._task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            return  # the client went away (e.g. an abandoned long poll)
        except Exception as error:  # a bug in the fake: surface it, keep serving
            _LOGGER.exception("FakeTelegram crashed on %s", request.uri)
            self._errors.append(error)
            status = 500
            payload = (
                b'{"ok":false,"error_code":500,"description":"'
                + INTERNAL_SERVER_ERROR.encode()
                + b': fake crashed"}'
            )
        if self._fake.offline:  # the outage began while the call was in flight
            self._hang_up()
            return
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(payload)

    get = post = _serve

    def _hang_up(self) -> None:
        """Drop the connection without answering, like a network outage."""
        self.detach().close()

    def on_connection_close(self) -> None:
        """Cancel the in-flight fake call when the client disconnects."""
        if self._task is not None and not self._task.done():
            self._task.cancel()


class FakeBotApiServer:
    """Async context manager serving the Bot API on 127.0.0.1:<ephemeral port>."""

    def __init__(
        self, fake: FakeTelegram | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        """Prepare a server for `fake` (a fresh FakeTelegram when None)."""
        self.fake = fake if fake is not None else FakeTelegram()
        self.errors: list[BaseException] = []
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._server: tornado.httpserver.HTTPServer | None = None

    @property
    def port(self) -> int:
        """Return the bound TCP port (server must be started)."""
        if self._port is None:
            raise RuntimeError("FakeBotApiServer is not started")
        return self._port

    @property
    def url(self) -> str:
        """Return the server root URL."""
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Return PTB's base_url (the token gets appended): http://127.0.0.1:PORT/bot."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Return PTB's base_file_url counterpart (file downloads are not served)."""
        return f"{self.url}/file/bot"

    async def start(self) -> Self:
        """Bind the socket and start serving in the running asyncio loop."""
        app = tornado.web.Application(
            [(r"/.*", _BotApiHandler, {"fake": self.fake, "errors": self.errors})],
            log_function=lambda handler: None,
        )
        self._server = tornado.httpserver.HTTPServer(app, max_body_size=64 * 1024 * 1024)
        sockets = tornado.netutil.bind_sockets(
            self._requested_port, self._host, family=socket.AF_INET
        )
        self._server.add_sockets(sockets)
        self._port = int(sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        """Wake long polls, stop listening and close every open connection."""
        if self._server is None:
            return
        self.fake.interrupt_polls()
        self._server.stop()
        await self._server.close_all_connections()
        self._server = None

    async def __aenter__(self) -> Self:
        """Start the server."""
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self.stop()
