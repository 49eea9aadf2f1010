"""The Celery application: `celery -A celery_app worker -Q cp.*`."""

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import after_setup_logger, celeryd_after_setup, worker_init, worker_process_init
from kombu import Exchange, Queue

from charging import adapters
from charging.protocol import envelope
from charging.queues import (
    DELIVER_DUE_WEBHOOKS_TASK,
    DELIVER_WEBHOOK_TASK,
    WEBHOOK_QUEUE,
)
from charging.tracing import WORKER, tracing_setup
from tasks import results, webhooks
from tasks.maintenance import EXPIRE_STALE_CALLS_TASK, PRUNE_MESSAGES_TASK, REAP_DEAD_GATEWAYS_TASK

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "levity_backend.settings")

app = Celery("levity")
app.config_from_object("django.conf:settings", namespace="CELERY")

# `-Q cp.*` is a literal queue name (Celery has no wildcard queues): one durable queue bound to
# the topic exchange with `cp.#`, so ids containing dots are matched too. Ordering per charge
# point comes from the gateway's flow control, not from the queue (docs/envelope.md).
inbound_exchange = Exchange(envelope.INBOUND_EXCHANGE, type="topic", durable=True)
app.conf.task_queues = [
    Queue(
        envelope.INBOUND_QUEUE,
        inbound_exchange,
        routing_key=envelope.INBOUND_BINDING,
        durable=True,
        max_priority=envelope.INBOUND_MAX_PRIORITY,
    ),
    # Webhook deliveries (docs/events.md): a queue of their own, off the chargers' route.
    Queue(
        WEBHOOK_QUEUE,
        Exchange(WEBHOOK_QUEUE, type="direct", durable=True),
        routing_key=WEBHOOK_QUEUE,
        durable=True,
    ),
]
app.conf.task_default_queue = envelope.INBOUND_QUEUE
app.conf.task_default_exchange = envelope.INBOUND_EXCHANGE
app.conf.task_default_exchange_type = "topic"
app.conf.task_default_routing_key = "cp._"
# Commands (`levity.send_call`) travel the same route (workers consume only `cp.*`); the
# enqueuer gives the routing key `cp.<charge point id>`.
# Housekeeping too, so `-Q cp.*` workers run it (routing key `cp._`, the default).
app.conf.task_routes = {
    envelope.SEND_CALL_TASK: {"queue": envelope.INBOUND_QUEUE},
    EXPIRE_STALE_CALLS_TASK: {"queue": envelope.INBOUND_QUEUE},
    REAP_DEAD_GATEWAYS_TASK: {"queue": envelope.INBOUND_QUEUE},
    PRUNE_MESSAGES_TASK: {"queue": envelope.INBOUND_QUEUE},
    DELIVER_WEBHOOK_TASK: {"queue": WEBHOOK_QUEUE},
    DELIVER_DUE_WEBHOOKS_TASK: {"queue": WEBHOOK_QUEUE},
}
app.conf.imports = ["tasks.inbound", "tasks.calls", "tasks.maintenance", "tasks.webhooks"]
# The charging app knows no Celery: commands are enqueued, and their outcomes kept as the task's
# result (django-celery-results), through these.
adapters.set_command_sender(results.enqueue_send)
adapters.mirror_outcomes(results.store_task_result)
adapters.set_webhook_waker(webhooks.enqueue_delivery)


@celeryd_after_setup.connect
def _consume_webhooks_too(sender: str, instance: Any, **kwargs: Any) -> None:
    """A worker of `cp.*` also consumes `levity.webhooks` (Celery's documented way to add a
    queue to a worker), so the command people run (`-Q cp.*`) sends webhooks without another
    process; `-Q levity.webhooks` starts a worker that sends only them."""
    queues = instance.app.amqp.queues
    if envelope.INBOUND_QUEUE in (queues.consume_from or {}):
        queues.select_add(WEBHOOK_QUEUE)


@after_setup_logger.connect
def _quiet_per_task_lines(**kwargs: Any) -> None:
    """Celery logs two INFO lines per task, here one task per frame: thousands a second for a
    fleet. They cost the workers CPU and bury the warnings; LOG_EVERY_TASK=1 brings them back."""
    from django.conf import settings

    if not getattr(settings, "LOG_EVERY_TASK", False):
        for name in ("celery.app.trace", "celery.worker.strategy"):
            logging.getLogger(name).setLevel(logging.WARNING)


@worker_process_init.connect
def _trace_worker_process(**kwargs: Any) -> None:
    """Tracing starts in each prefork child: its span exporter's thread would not survive the
    fork (docs/tracing.md)."""
    tracing_setup(WORKER)


@worker_init.connect
def _trace_worker_without_children(sender: Any = None, **kwargs: Any) -> None:
    pool = getattr(sender, "pool_cls", "")
    if "prefork" not in (pool if isinstance(pool, str) else pool.__module__):
        tracing_setup(WORKER)  # solo and threads pools run tasks in this process
