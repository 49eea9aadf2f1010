"""Webhook tasks, on their own queue `levity.webhooks`: send one webhook's due deliveries, and the sweep."""

from __future__ import annotations

from celery import shared_task

from charging.queues import DELIVER_DUE_WEBHOOKS_TASK, DELIVER_WEBHOOK_TASK


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
