"""Run the real Application in front of a FakeTelegram (tests, benchmarks)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from telegram import Update

from .transport import fake_request

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.config import Settings
    from bot.context import BandCoachApp, BandCoachContext

    from .state import FakeTelegram

ErrorHandler = Callable[[object, "BandCoachContext"], Coroutine[Any, Any, None]]


@asynccontextmanager
async def running_app(
    settings: Settings,
    fake: FakeTelegram,
    clock: Clock,
    *,
    on_error: ErrorHandler | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    receive_updates: bool = True,
) -> AsyncIterator[BandCoachApp]:
    """Run a real Application, with PTB's real HTTPX request layer, against the fake.

    Updates the fake delivers are processed to completion before `deliver` returns, so a
    caller can check the chat right after a tap.
    """
    from bot.app import build_application

    application = build_application(
        settings, request=fake_request(fake), get_updates_request=fake_request(fake), clock=clock
    )
    if on_error is not None:
        application.add_error_handler(on_error)
    if sleep is not None:
        application.bot_data.sleep = sleep

    async def deliver(data: dict[str, Any]) -> None:
        await application.process_update(Update.de_json(data, application.bot))

    if receive_updates:
        fake.on_update = deliver
    await application.initialize()
    # post_init only runs from run_polling/run_webhook; callers of `async with app` must call it.
    assert application.post_init is not None
    await application.post_init(application)
    await application.start()
    try:
        yield application
    finally:
        await application.stop()
        assert application.post_stop is not None
        await application.post_stop(application)
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)
