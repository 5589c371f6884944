"""Network faults on the wire (timeouts, outages); the HTTP layer raises them, not handle()."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import FakeApiError
from .faults import FaultInjection
from .wire import normalise_params, parse_http_request


@dataclass
class WireTimeout:
    """A timeout armed for the next `times` matching calls, delivered or lost."""

    method: str
    delivered: bool
    chat_id: int | None
    times: int


class NetworkFaults(FaultInjection):
    """Armed timeouts and the outage switch; mixed into FakeTelegram, consulted by transports."""

    _timeouts: list[WireTimeout]
    _offline: bool

    def timeout_next(
        self, method: str, *, delivered: bool, times: int = 1, chat_id: int | None = None
    ) -> None:
        """Make the next `times` matching calls ("*" = any method) time out on the wire.

        delivered=True executes the call first (Telegram did send it, only the answer is lost).
        """
        self._timeouts.append(WireTimeout(method.lower(), delivered, chat_id, times))

    @property
    def offline(self) -> bool:
        """Return True while the fake simulates a network outage."""
        return self._offline

    def go_offline(self) -> None:
        """Start an outage: requests fail to connect, pending long polls fail too."""
        self._offline = True
        self._interrupts += 1  # wake long polls so their transport fails them now
        self._notify()

    def go_online(self) -> None:
        """End the outage started by go_offline."""
        self._offline = False
        self._notify()

    def clear_faults(self) -> None:
        """Drop all pending injected errors and armed timeouts (the outage switch stays)."""
        super().clear_faults()
        self._timeouts.clear()

    def take_timeout(self, url: str, headers: Mapping[str, str], body: bytes) -> WireTimeout | None:
        """Consume and return the timeout armed for this raw HTTP request, if any."""
        if not self._timeouts:  # nothing armed: no need to decode the request again
            return None
        try:
            parsed = parse_http_request(url, headers, body)
        except ValueError:
            return None
        if parsed is None:
            return None
        try:
            params = normalise_params(parsed.params)
        except FakeApiError:
            params = dict(parsed.params)
        return self._take_pending(self._timeouts, parsed.method.lower(), params)
