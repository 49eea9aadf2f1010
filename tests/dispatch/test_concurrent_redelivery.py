"""An event delivered twice at once (a worker's connection lost mid-task): the second copy waits
for the charge point's lock, then finds the first one's frame by its key and replays it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from charging.dispatch import handle_inbound
from charging.middleware import Middleware
from charging.models import Message, Transaction
from tests.factories import call, start_payload

pytestmark = pytest.mark.django_db(transaction=True)

inside = threading.Event()
release = threading.Event()


class Slow(Middleware):
    """Holds the first copy inside its transaction until the second is waiting for the lock."""

    def __call__(self, context):
        if not inside.is_set():
            inside.set()
            assert release.wait(10)
        return self.get_response(context)


def test_a_copy_processed_while_the_first_is_in_flight_replays_its_answer(settings):
    settings.OCPP_MIDDLEWARE = {
        ("StartTransaction", 2): [Slow, "charging.middleware.StartTransactionHandler"]
    }
    envelope = call("c1", "StartTransaction", start_payload())
    handle_inbound(call("c1-boot", "Heartbeat", {}))  # the charge point exists
    replies: dict[str, dict] = {}

    def deliver(name: str) -> None:
        try:
            replies[name] = dict(handle_inbound(dict(envelope)))
        finally:
            connection.close()

    first = threading.Thread(target=deliver, args=("first",))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=deliver, args=("second",))
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting for the charge point's lock
    release.set()
    first.join(10)
    second.join(10)
    assert replies["second"]["send"] == replies["first"]["send"]
    assert Transaction.objects.count() == 1
    assert Message.objects.filter(direction="in", unique_id="c1").count() == 1
