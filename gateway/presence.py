"""The gateway's presence lease: a Redis key with a TTL, renewed while the gateway runs.

Workers take a gateway whose lease expired for dead and its charge points for offline
(docs/envelope.md, "Presence"): a gateway killed with `kill -9`, or frozen, sends no
`disconnect`s. Redis trouble is never fatal here: the gateway keeps serving its chargers and
renews the lease as soon as Redis answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

import redis.asyncio as redis
from redis.exceptions import RedisError

from charging.protocol import envelope as env

log = logging.getLogger("gateway.presence")

RENEWALS_PER_TTL = 3  # a lease survives two lost renewals


class Presence:
    """Keeps `levity:gateway:<gateway id>` alive in Redis for `ttl` seconds at a time."""

    def __init__(
        self,
        url: str,
        *,
        gateway_id: str,
        reply_to: str,
        ttl: float,
        connections: Callable[[], int],
    ) -> None:
        if ttl <= 0:
            raise ValueError("a presence lease needs a positive TTL")
        self.key = env.gateway_lease_key(gateway_id)
        self.ttl = ttl
        self._reply_to = reply_to
        self._connections = connections
        timeout = min(2.0, ttl / RENEWALS_PER_TTL)
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self.renewals = 0

    @property
    def state(self) -> str:
        return "failing" if self._failing else "ok"

    async def start(self) -> None:
        """Take the lease (before the first charger is accepted, so no charge point ever points
        at a gateway without one), then renew it in the background."""
        await self.renew()
        self._task = asyncio.create_task(self._renew_forever(), name=f"presence {self.key}")

    async def renew(self) -> bool:
        value = json.dumps({"reply_to": self._reply_to, "connections": self._connections()})
        try:
            await self._client.set(self.key, value, px=int(self.ttl * 1000))
        except (RedisError, OSError) as error:
            if not self._failing:
                log.warning("presence lease %s not renewed: %s (retrying)", self.key, error)
            self._failing = True
            return False
        if self._failing:
            log.info("presence lease %s renewed again", self.key)
        self._failing = False
        self.renewals += 1
        return True

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / RENEWALS_PER_TTL)
            await self.renew()

    async def stop(self) -> None:
        """Give the lease up (a clean stop has sent every `disconnect` already)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await self._client.delete(self.key)
        except (RedisError, OSError) as error:
            log.warning("presence lease %s not released: %s", self.key, error)
        await self._client.aclose()
