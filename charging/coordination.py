"""The workers' Redis client (REDIS_URL): short-lived coordination only, never fatal.

Used to wake callers waiting for a command's answer (charging.outcomes) and to read the
gateways' presence leases (charging.services.presence). A frozen Redis costs one socket timeout
(OCPP_REDIS_TIMEOUT), never a stall; after a failure it is left alone for a while.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from . import conf

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = 30.0  # seconds without Redis after it failed
MAX_BLOCK = 1.0  # seconds a blocking command (BLPOP) may wait on the server

_lock = threading.Lock()
_clients: dict[tuple[str, bool], redis.Redis] = {}
_down_until = 0.0


def redis_client(*, blocking: bool = False) -> redis.Redis | None:
    """A shared client for REDIS_URL, or None when there is none or it failed recently.

    Its socket timeout is OCPP_REDIS_TIMEOUT; a `blocking` client's is MAX_BLOCK more, for
    commands that wait on the server up to MAX_BLOCK seconds. No retries: a retry would only
    repeat the timeout.
    """
    url = conf.get("REDIS_URL") or ""
    if not url or time.monotonic() < _down_until:
        return None
    key = (url, blocking)
    with _lock:
        client = _clients.get(key)
        if client is None:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry

            timeout = float(conf.get("OCPP_REDIS_TIMEOUT"))
            client = _clients[key] = redis.Redis.from_url(
                url,
                socket_connect_timeout=timeout,
                socket_timeout=timeout + MAX_BLOCK if blocking else timeout,
                retry=Retry(NoBackoff(), 0),
            )
        return client


def redis_failed(error: Exception, *, fallback: str) -> None:
    """Leave Redis alone for RETRY_AFTER_FAILURE seconds; `fallback` says what happens instead."""
    global _down_until
    _down_until = time.monotonic() + RETRY_AFTER_FAILURE
    logger.warning("Redis unavailable, %s: %s", fallback, error)
