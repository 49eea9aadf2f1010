"""How a command reaches the gateway holding its charge point: AMQP by default, or a local
publisher in embedded mode (`set_local_publisher`, wired by `levity.embedded`)."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from kombu import Connection, Exchange, Producer

from charging.protocol import envelope as env

logger = logging.getLogger(__name__)

LocalPublisher = Callable[[env.CallRequest], bool]

CALLS_EXCHANGE = Exchange(env.CALLS_EXCHANGE, type="direct", durable=True)
_RETRY_POLICY = {"max_retries": 5, "interval_start": 0.1, "interval_step": 0.5, "interval_max": 2}

_local_publisher: LocalPublisher | None = None


def set_local_publisher(publisher: LocalPublisher | None) -> None:
    """Publish CallRequests with `publisher` (True = a gateway in this process holds the charge
    point) instead of AMQP; None restores AMQP. Must be thread-safe."""
    global _local_publisher
    _local_publisher = publisher


def publish_call(request: env.CallRequest) -> bool:
    """Hand `request` to the gateway holding `request["cp"]`. False: no gateway holds it."""
    if _local_publisher is not None:
        return _local_publisher(request)
    return _amqp.publish(request)


class AmqpCallPublisher:
    """Publishes to `levity.calls` with routing key = charge point id, `mandatory` and with
    publisher confirms: RabbitMQ sends `basic.return` for an unroutable message before its
    `basic.ack`, and py-amqp dispatches it while waiting for the ack, so `publish` knows.

    One connection per process (prefork children each open their own), one publish at a time
    (worker threads take turns).
    """

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._lock = threading.Lock()
        self._pid = 0
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._returned: list[str] = []

    def _on_return(self, exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        try:
            unique_id = json.loads(message.body)["call"]["unique_id"]
        except (ValueError, KeyError, TypeError):
            unique_id = ""
        logger.info("command %s for %s returned: %s", unique_id, routing_key, exc)
        self._returned.append(unique_id)

    def _producer_for_this_process(self) -> Producer:
        if self._producer is None or self._pid != os.getpid():
            url = self._url or settings.CELERY_BROKER_URL  # AMQP_URL, cleaned for kombu
            # heartbeat 0: an idle publisher must not be dropped for missed heartbeats.
            self._connection = Connection(
                url, heartbeat=0, transport_options={"confirm_publish": True}
            )
            self._producer = Producer(self._connection, on_return=self._on_return)
            self._pid = os.getpid()
        return self._producer

    def publish(self, request: env.CallRequest) -> bool:
        unique_id = request["call"]["unique_id"]
        with self._lock:
            producer = self._producer_for_this_process()
            self._returned.clear()
            producer.publish(
                env.encode(request),
                exchange=CALLS_EXCHANGE,
                routing_key=request["cp"],
                mandatory=True,
                declare=[CALLS_EXCHANGE],
                content_type="application/json",
                content_encoding="utf-8",
                # Transient: a gateway's queue dies with it, and a restarted broker has no
                # bindings until the charge points reconnect.
                delivery_mode=1,
                retry=True,
                retry_policy=_RETRY_POLICY,
            )
            return unique_id not in self._returned

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.release()
            self._connection = self._producer = None


_amqp = AmqpCallPublisher()
