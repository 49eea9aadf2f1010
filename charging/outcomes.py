"""After an outbound call ends: wake the callers waiting for it (Redis) and keep its command
task's outcome (Celery result backend, django-celery-results). Neither is ever fatal."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from .coordination import MAX_BLOCK, redis_client, redis_failed
from .protocol import envelope as wire

if TYPE_CHECKING:
    from .models import OutboundCall

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


def call_outcome(call: OutboundCall) -> dict[str, Any]:
    """The JSON outcome of a command, as its task's stored result."""
    return {
        "status": call.status,
        "charge_point": call.charge_point_id,
        "unique_id": call.unique_id,
        "action": call.action,
        "response": call.response,
        "error_code": call.error_code,
        "error_description": call.error_description,
    }


def store_task_result(call: OutboundCall) -> None:
    """Keep the call's current outcome as its command task's result (django-celery-results).

    Always state SUCCESS: the task did its job (handing the CALL over); what the charger made of
    it is `result["status"]`. Called inside the caller's transaction, under the charge point's
    lock, so a fast answer's outcome can never be overwritten by the task's `sent`.
    """
    if not call.task_id:
        return
    from celery import current_app

    # A request-like object, so the row keeps the task's name and arguments (result_extended).
    request = SimpleNamespace(
        id=call.task_id,
        task=wire.SEND_CALL_TASK,
        args=[call.pk],
        kwargs={},
        argsrepr=repr((call.pk,)),
        kwargsrepr="{}",
        hostname=None,
        children=[],
        meta={},
        periodic_task_name=None,
        ignore_result=False,
    )
    try:
        current_app.backend.store_result(
            call.task_id, call_outcome(call), "SUCCESS", request=request
        )
    except Exception:
        logger.exception("storing the outcome of %s %s failed", call.action, call.unique_id)
