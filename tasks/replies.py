"""Publishing worker → gateway replies: plain JSON on the gateway's exclusive queue."""

from celery import current_app

from charging.protocol import envelope as env
from charging.tracing import trace_headers

_RETRY_POLICY = {"max_retries": 5, "interval_start": 0.1, "interval_step": 0.5, "interval_max": 2}


def send(reply: env.Reply | env.CloseRequest, *, reply_to: str) -> None:
    """Publish `reply` (or a close request) on the default exchange to `reply_to`. A gateway that
    is gone has no queue any more: the message is dropped by the broker, and its charge points
    reconnect elsewhere."""
    with current_app.producer_pool.acquire(block=True) as producer:
        producer.publish(
            env.encode(reply),
            exchange="",
            routing_key=reply_to,
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=1,  # transient: the queue is exclusive and dies with its gateway
            headers=trace_headers(),  # None unless tracing is on (docs/tracing.md)
            retry=True,
            retry_policy=_RETRY_POLICY,
        )
