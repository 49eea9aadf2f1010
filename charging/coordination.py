"""The workers' Redis client (REDIS_URL): short-lived coordination only, never fatal.

Used to wake callers waiting for a command's answer (charging.outcomes) and to read the
gateways' presence leases (charging.services.presence). After a failure it is left alone for a
while, so that nothing stalls on a Redis that is down.
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

_lock = threading.Lock()
_client: redis.Redis | None = None
_client_url = ""
_down_until = 0.0


def redis_client() -> redis.Redis | None:
    """A shared client for REDIS_URL, or None when there is none or it failed recently."""
    global _client, _client_url
    url = conf.get("REDIS_URL") or ""
    if not url or time.monotonic() < _down_until:
        return None
    with _lock:
        if _client is None or _client_url != url:
            import redis

            _client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=None)
            _client_url = url
        return _client


def redis_failed(error: Exception, *, fallback: str) -> None:
    """Leave Redis alone for RETRY_AFTER_FAILURE seconds; `fallback` says what happens instead."""
    global _down_until
    _down_until = time.monotonic() + RETRY_AFTER_FAILURE
    logger.warning("Redis unavailable, %s: %s", fallback, error)
