"""Webhook mode: Telegram posts updates to a Starlette app served by uvicorn, plus /healthz.

An update is processed before its 200 goes back, so one that was in flight when the process
died gets no 200 and Telegram delivers it again; handlers are idempotent against the stored
state, so a redelivered tap changes nothing twice. SIGTERM stops taking requests, lets those in
flight finish, then stops the jobs, flushes delivery and closes the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.app import post_init, post_shutdown, settle_deliveries
from bot.config import Settings
from bot.context import BandCoachApp
from bot.update_log import LoggedApplication
from storage import live_messages as live

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # Telegram's updates are a few KB; anything this big is not one
HEALTH_TIMEOUT = 3.0  # a database that does not answer in 3 s counts as unreachable
GRACEFUL_SECONDS = 5  # requests in flight get this long after SIGTERM
SHUTDOWN_SECONDS = 3  # then the jobs stop and delivery flushes: in all, under the 10 s allowed


def _same(given: str, expected: str) -> bool:
    """Compare a header with the secret in constant time."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


async def _decode(request: Request, app: BandCoachApp) -> Update | None:
    """Return the request's update, or None when the body is not a valid one."""
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return None
        return Update.de_json(data, app.bot)
    except Exception:  # any malformed body: 400, and nothing else happens
        return None


async def health(app: BandCoachApp) -> tuple[bool, dict[str, Any]]:
    """Return whether the database answers, with the delivery backlog and the last update."""
    last = app.last_update_at if isinstance(app, LoggedApplication) else None
    report: dict[str, Any] = {"last_update_at": last.isoformat() if last else None}

    async def probe() -> int:
        async with app.bot_data.db.read() as session:  # answering at all proves the database
            return await live.backlog(session)

    try:
        backlog = await asyncio.wait_for(probe(), HEALTH_TIMEOUT)
    except Exception as exc:
        logger.warning("Health check: the database is unreachable (%s)", type(exc).__name__)
        return False, {"status": "unavailable", "database": "unreachable", **report}
    return True, {"status": "ok", "database": "ok", "delivery_backlog": backlog, **report}


def asgi_app(app: BandCoachApp, path: str, secret: str) -> Starlette:
    """Return the ASGI app: Telegram's webhook at `path` and the health check at /healthz."""

    async def telegram(request: Request) -> Response:
        if not _same(request.headers.get(SECRET_HEADER, ""), secret):
            return PlainTextResponse("forbidden", status_code=403)
        update = await _decode(request, app)
        if update is None:
            return PlainTextResponse("not an update", status_code=400)
        await app.process_update(update)
        return Response(status_code=200)

    async def healthz(_: Request) -> Response:
        ok, report = await health(app)
        return JSONResponse(report, status_code=200 if ok else 503)

    routes = [Route(path, telegram, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])]
    return Starlette(routes=routes)


class _Server(uvicorn.Server):
    """uvicorn's server, minus its signal handling: serve() installs handlers of its own."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave signals alone (uvicorn would re-raise SIGTERM after a graceful stop)."""
        yield


async def serve(app: BandCoachApp, settings: Settings, secret: str) -> None:
    """Register the webhook, serve it until SIGTERM or SIGINT, then shut down in order."""
    assert settings.webhook_url is not None
    config = uvicorn.Config(
        asgi_app(app, settings.webhook_path(), secret), host=settings.webhook_listen,
        port=settings.port, log_config=None, access_log=False, lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )  # fmt: skip
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # a second signal while stopping changes nothing
        loop.add_signal_handler(sig, setattr, server, "should_exit", True)
    async with app:  # initialize … shutdown
        await post_init(app)
        await app.bot.set_webhook(
            settings.webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
        )
        await app.start()
        logger.info("Serving Telegram's webhook on port %d", settings.port)
        try:
            await server.serve()
        finally:
            stopping = loop.time()
            await app.stop()
            await settle_deliveries(app, SHUTDOWN_SECONDS - (loop.time() - stopping))
    await post_shutdown(app)
