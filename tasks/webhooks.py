"""Webhook tasks, on their own queue `levity.webhooks`: send one webhook's due deliveries, and the sweep."""

from __future__ import annotations

from celery import current_app, shared_task

from charging.queues import DELIVER_DUE_WEBHOOKS_TASK, DELIVER_WEBHOOK_TASK, WEBHOOK_QUEUE


def enqueue_delivery(webhook_id: int, countdown: float) -> None:
    """The waker celery_app wires into charging.adapters: a `deliver_webhook` task on
    `levity.webhooks`, in `countdown` seconds."""
    if current_app.conf.task_always_eager:
        # No broker and no sender thread in this process (a management command): the embedded
        # process's sweep sends it; an eager task would hold the caller for the HTTP request.
        return
    current_app.signature(DELIVER_WEBHOOK_TASK, args=(webhook_id,)).apply_async(
        queue=WEBHOOK_QUEUE, countdown=countdown or None
    )


@shared_task(name=DELIVER_WEBHOOK_TASK, ignore_result=True, acks_late=True)
def deliver_webhook(webhook_id: int) -> int:
    """`services.webhook_deliver`: the webhook's due deliveries, in order; how many went out.
    Idempotent: a second run for the same webhook finds nothing due, or the first one busy."""
    from charging import services

    return services.webhook_deliver(webhook_id=webhook_id).delivered


@shared_task(name=DELIVER_DUE_WEBHOOKS_TASK, ignore_result=True)
def deliver_due_webhooks() -> int:
    """Beat's sweep: a `deliver_webhook` per webhook with a delivery due (retries too far out
    for a countdown, and any wake-up lost with a worker); returns how many."""
    from charging import services

    due = services.webhook_ids_due()
    for webhook_id in due:
        services.webhook_wake(webhook_id=webhook_id)
    return len(due)
