"""After an outbound call ends: wake the callers waiting for it (Redis). Never fatal."""

from __future__ import annotations

import logging

from .coordination import MAX_BLOCK, redis_client, redis_failed

logger = logging.getLogger(__name__)

WAKE_KEY_PREFIX = "levity:call:"
WAKE_TTL = 120  # seconds a wake-up stays for a caller that starts waiting late
_FALLBACK = "waiting on the database instead"


def wake_key(unique_id: str) -> str:
    return f"{WAKE_KEY_PREFIX}{unique_id}:done"


def wake(unique_id: str, status: str) -> None:
    """Tell the callers waiting for call `unique_id` that it ended (run after commit)."""
    client = redis_client()
    if client is None:
        return
    key = wake_key(unique_id)
    try:
        with client.pipeline(transaction=False) as pipe:
            pipe.rpush(key, status)
            pipe.expire(key, WAKE_TTL)
            pipe.execute()
    except Exception as error:  # noqa: BLE001 - waiters fall back to the database
        redis_failed(error, fallback=_FALLBACK)


def wait_for_wake(unique_id: str, timeout: float) -> bool | None:
    """Block up to `timeout` seconds (at most MAX_BLOCK) for the wake-up of call `unique_id`: True when it came,
    False on timeout, None when Redis is not available (the caller polls the database)."""
    client = redis_client(blocking=True)
    if client is None:
        return None
    key = wake_key(unique_id)
    try:
        # The blocking client's socket timeout outlasts BLPOP's own by OCPP_REDIS_TIMEOUT.
        item = client.blpop([key], timeout=min(max(timeout, 0.01), MAX_BLOCK))
        if item is None:
            return False
        # Put it back for anybody else waiting for the same call.
        with client.pipeline(transaction=False) as pipe:
            pipe.rpush(key, item[1])
            pipe.expire(key, WAKE_TTL)
            pipe.execute()
        return True
    except Exception as error:  # noqa: BLE001 - fall back to the database
        redis_failed(error, fallback=_FALLBACK)
        return None
