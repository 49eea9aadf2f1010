"""The task every inbound gateway event becomes, routed by charge point on `cp.*`."""

from celery import shared_task

from charging.protocol import envelope as env
from tasks import replies


@shared_task(
    name=env.INBOUND_TASK,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def handle_gateway_event(envelope: env.Inbound) -> None:
    """Process one event of one charge point (a handshake, a connect or disconnect, a frame, an
    outbound call's timeout, offline or due: docs/envelope.md), then answer its gateway (and
    tell another gateway to close the connection a newer one replaced, if any).

    Registered as `levity.handle_frame`, its name from when it handled frames only.

    Idempotent: a redelivery after a crash replays the stored answer (keyed on `envelope["id"]`).
    Never `retry()` here: it would re-publish at the tail and break the charge point's order.
    """
    # Imported lazily: Django's app registry is ready only once the worker has started.
    from charging.dispatch import handle_event

    handled = handle_event(envelope)
    replies.send(handled.reply, reply_to=envelope["reply_to"])
    for reply_to, request in handled.closes:
        replies.send(request, reply_to=reply_to)
