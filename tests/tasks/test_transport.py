"""The AMQP command publisher against the real RabbitMQ: routed or returned (mandatory)."""

from __future__ import annotations

import json
import uuid

from kombu import Connection, Queue

from charging.protocol import envelope
from tasks.transport import CALLS_EXCHANGE, AmqpCallPublisher

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672//"


def request(cp: str) -> envelope.CallRequest:
    unique_id = str(uuid.uuid4())
    return envelope.call_request(
        cp,
        {
            "unique_id": unique_id,
            "action": "ClearCache",
            "text": json.dumps([2, unique_id, "ClearCache", {}]),
            "delay": 0.0,
            "timeout": 5.0,
        },
    )


def test_a_call_for_a_charge_point_no_gateway_holds_is_returned_and_one_bound_is_routed():
    publisher = AmqpCallPublisher(AMQP_URL)
    cp = f"T-{uuid.uuid4().hex[:8]}"
    try:
        assert publisher.publish(request(cp)) is False
        with Connection(AMQP_URL) as connection:
            channel = connection.channel()
            queue = Queue(
                f"test.gw.{cp}", CALLS_EXCHANGE, routing_key=cp, exclusive=True, auto_delete=True
            )(channel)
            queue.declare()
            routed = request(cp)
            assert publisher.publish(routed) is True
            assert publisher.publish(request(f"{cp}-other")) is False
            message = queue.get(no_ack=True)
            assert json.loads(message.body) == routed
            channel.close()
    finally:
        publisher.close()
