"""The command task: hand one recorded outbound CALL to the gateway holding its charge point."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from charging.protocol import envelope as env
from tasks import results, transport


@shared_task(
    name=env.SEND_CALL_TASK,
    # The outcome is kept (django-celery-results), but stored by the services, in the same
    # transaction and under the same lock as the call's status: Celery's own store after the
    # task returns could overwrite a fast answer's outcome with "sent".
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def send_call(call_id: int) -> dict[str, Any]:
    """Publish the CALL of OutboundCall `call_id`; it ends `offline` when no gateway holds the
    charge point. The answer comes back as an inbound event, never awaited here.

    Idempotent: a redelivery after the call was handed over (or ended) publishes nothing.
    """
    from charging import services

    request = services.outbound_call_start_send(call_id=call_id)
    if request is None:
        return {"status": "skipped"}
    routed = transport.publish_call(request)
    call = services.outbound_call_published(call_id=call_id, routed=routed)
    return results.call_outcome(call)
