"""Failed handshakes per source address, kept in memory: a flood of bad credentials is answered
429 here instead of costing the workers a query and a key hash per attempt."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable


class HandshakeThrottle:
    """`failures` refusals from one address within `window` seconds (whatever the charge point
    ids) block that address until the oldest of them is `window` old; a worker's 429 for one
    charge point blocks only that (address, charge point) pair for the time it says.

    Only refusals count, never accepted handshakes, so chargers that authenticate are not slowed
    by anyone else's failures (nor by their own: a charger behind the same address counts only
    if it fails too).
    """

    def __init__(
        self,
        *,
        failures: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.window = window
        self._clock = clock
        self._by_host: dict[str, deque[float]] = {}
        self._blocked: dict[tuple[str, str], float] = {}  # (host, charge point) → until

    def retry_after(self, host: str, charge_point: str) -> int:
        """Seconds this handshake must wait (0: ask the workers)."""
        now = self._clock()
        until = self._blocked.get((host, charge_point), 0.0)
        if until <= now:
            self._blocked.pop((host, charge_point), None)
            until = 0.0
        times = self._by_host.get(host)
        if times is not None:
            while times and times[0] <= now - self.window:
                times.popleft()
            if not times:
                del self._by_host[host]
            elif self.failures and len(times) >= self.failures:
                until = max(until, times[0] + self.window)
        return math.ceil(until - now) if until > now else 0

    def failed(self, host: str) -> None:
        """A handshake from `host` was refused for its credentials or its id."""
        times = self._by_host.setdefault(host, deque(maxlen=max(self.failures, 1)))
        times.append(self._clock())
        if len(self._by_host) > 10_000:
            self._prune()

    def block(self, host: str, charge_point: str, seconds: float) -> None:
        """The workers answered 429 for this pair: answer it here until then."""
        self._blocked[(host, charge_point)] = self._clock() + seconds
        if len(self._blocked) > 10_000:
            self._prune()

    def _prune(self) -> None:
        # A flood from many addresses must not grow memory without bound.
        now = self._clock()
        for host in [h for h, t in self._by_host.items() if not t or t[-1] <= now - self.window]:
            del self._by_host[host]
        for key in [k for k, until in self._blocked.items() if until <= now]:
            del self._blocked[key]
