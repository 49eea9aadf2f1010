"""Per connection limits: a token bucket for frames read, and the time of the last byte received."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import InvalidMessage
from websockets.frames import CloseCode

log = logging.getLogger("gateway.server")  # with the other handshake refusals

# RFC 6455 §7.4.2: 4000-4999 are for applications. A code of its own, not 1001 (which our
# shutdown sends), so the disconnect event and the connection log tell the two apart.
IDLE_CLOSE = (4000, "idle timeout")
TOO_BIG_CLOSE_CODE = int(CloseCode.MESSAGE_TOO_BIG)  # 1009, sent by websockets itself


class TokenBucket:
    """`rate` tokens per second, at most `burst` saved up; one frame costs one token.

    `take()` spends a token and returns how long to wait before acting on it: 0 while tokens
    last, else the time until the token is earned (the bucket goes into debt, so a reader that
    waits before taking the next one is held to `rate` exactly).
    """

    def __init__(
        self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._tokens = float(self.burst)
        self._stamp = clock()

    def take(self) -> float:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    @property
    def saved_up(self) -> float:
        """Tokens left after the last `take()` (negative: in debt)."""
        return self._tokens


class ActivityConnection(ServerConnection):
    """A ServerConnection that notes when it last received any bytes: frames, and also the
    pings and pongs that never reach `recv()`, so a charger that answers our websocket pings
    (or pings us) is not idle even when it sends no OCPP frame (OCPP-J 1.6 lets chargers that
    use websocket pings send Heartbeats rarely).

    It also answers a request line or header it cannot parse (a raw space in the path, say)
    with HTTP 400 and one log line, where websockets would close the socket without a word."""

    last_received: float | None = None  # loop time
    # The workers accepted the handshake with the charge point's key (docs/gateway.md,
    # "Handshake": only such a connection takes over from an open one without a warning).
    authenticated: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # websockets' parser ends such a handshake with send_eof() alone (no hook, no log):
        # the answer is written just before that end of stream.
        self._send_eof = self.protocol.send_eof
        self.protocol.send_eof = self._answer_bad_request  # type: ignore[method-assign]

    def _answer_bad_request(self) -> None:
        error = self.protocol.handshake_exc
        cause = error.__cause__ if error is not None else None
        # A request never parsed (the client closing before one is only an EOFError).
        if (
            type(error) is InvalidMessage
            and self.request is None
            and not isinstance(cause, EOFError)
        ):
            reason = f"Bad request: malformed HTTP request ({cause or error})"[:300]
            response = self.protocol.reject(HTTPStatus.BAD_REQUEST, reason + "\n")
            self.protocol.writes.append(response.serialize())
            address = self.remote_address
            peer = f"{address[0]}:{address[1]}" if isinstance(address, tuple) else str(address)
            log.info("cp=- refused: 400 %s from %s", reason, peer)
        self._send_eof()

    def data_received(self, data: bytes) -> None:
        self.last_received = self.loop.time()
        super().data_received(data)
