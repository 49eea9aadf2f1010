"""Periodic housekeeping tasks, run by Celery beat (`celery -A celery_app beat`)."""

from __future__ import annotations

from celery import shared_task

EXPIRE_STALE_CALLS_TASK = "levity.expire_stale_calls"
REAP_DEAD_GATEWAYS_TASK = "levity.reap_dead_gateways"
PRUNE_MESSAGES_TASK = "levity.prune_messages"


@shared_task(name=EXPIRE_STALE_CALLS_TASK, ignore_result=True)
def expire_stale_calls() -> int:
    """`services.expire_due`: stale outbound calls and due reservations end; returns how many
    calls ended."""
    from charging import services

    return services.expire_due().calls


@shared_task(name=REAP_DEAD_GATEWAYS_TASK, ignore_result=True)
def reap_dead_gateways() -> int:
    """Take offline the charge points of gateways whose presence lease expired (killed or
    frozen: they sent no `disconnect`); returns how many.

    Idempotent and safe to run concurrently: each charge point is re-checked under its lock.
    """
    from charging import services

    return services.charge_point_reap_dead_gateways()


@shared_task(name=PRUNE_MESSAGES_TASK, ignore_result=True)
def prune_messages() -> int:
    """`services.message_prune`: frames past OCPP_MESSAGE_RETENTION_DAYS go, for at most about a
    second (a worker of `cp.*` runs it between chargers' events); the next tick goes on. Returns
    how many went."""
    from charging import services

    return services.message_prune().messages
