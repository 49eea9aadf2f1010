"""Webhook deliveries (charging.services.webhooks) against a real local HTTP receiver: written with
the effect, signed, sent in order, retried with backoff, failed after their retry time."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from charging import conf, events, services
from charging.models import Webhook, WebhookDelivery
from tests.factories import make_charge_point
from tests.receiver import receiver

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "s3cret"


@pytest.fixture
def wakes(settings):
    """The wake-ups asked for, (webhook id, countdown), instead of Celery tasks; no cache."""
    settings.OCPP_WEBHOOK_CACHE_SECONDS = 0
    settings.OCPP_WEBHOOK_RETRY_FIRST = 1.0
    settings.OCPP_WEBHOOK_RETRY_MAX = 4.0
    settings.OCPP_WEBHOOK_TIMEOUT = 2.0
    asked: list[tuple[int, float]] = []
    services.webhooks.set_local_waker(
        lambda webhook_id, countdown: asked.append((webhook_id, countdown))
    )
    yield asked
    services.webhooks.set_local_waker(None)


@pytest.fixture
def hook():
    with receiver() as http:
        webhook = services.webhook_create(
            url=http.url, events=["transaction.started", "charge_point.booted"], secret=SECRET
        )
        yield webhook, http


def boot(number: int) -> None:
    """One charge_point.booted event, in a transaction of its own."""
    with transaction.atomic():
        charge_point = make_charge_point(f"CP-{number}")
        services.charge_point_boot(charge_point=charge_point, vendor="V", model=str(number))


def due_now(webhook: Webhook) -> None:
    WebhookDelivery.objects.filter(webhook=webhook).update(next_attempt_at=timezone.now())


def test_a_delivery_is_written_with_the_effect_and_sent_signed(wakes, hook):
    webhook, http = hook
    boot(1)
    delivery = WebhookDelivery.objects.get()
    assert wakes == [(webhook.id, 0.0)]  # woken once the effect committed
    assert services.webhook_deliver(webhook_id=webhook.id).delivered == 1

    [request] = http.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-levity-signature"] == expected
    assert request.headers["x-levity-event"] == "charge_point.booted"
    assert request.headers["x-levity-event-id"] == str(delivery.event_id)
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert body["id"] == str(delivery.event_id) and body["event"] == "charge_point.booted"
    assert body["data"]["charge_point_id"] == "CP-1" and body["data"]["model"] == "1"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 1, 200)


def test_a_rolled_back_effect_leaves_no_delivery_and_wakes_nobody(wakes, hook):
    with pytest.raises(RuntimeError), transaction.atomic():
        boot(1)
        raise RuntimeError
    assert not WebhookDelivery.objects.exists()
    assert wakes == []


def test_an_event_not_subscribed_or_an_inactive_webhook_gets_nothing(wakes, hook):
    webhook, _ = hook
    events.emit("security_event.received", charge_point=None, security_event=None)
    Webhook.objects.filter(id=webhook.id).update(active=False)
    boot(1)
    assert not WebhookDelivery.objects.exists()


def test_deliveries_wait_in_order_behind_one_that_is_retried(wakes, hook):
    webhook, http = hook
    down = True
    http.answer = lambda request: 503 if down else 200
    for number in range(3):
        boot(number)

    sent = services.webhook_deliver(webhook_id=webhook.id)
    assert sent.delivered == 0 and sent.again_in == pytest.approx(1.0, abs=0.2)
    assert wakes[-1] == (webhook.id, pytest.approx(1.0, abs=0.2))  # its retry, woken
    assert len(http.requests) == 1  # the later two wait behind the first
    first = WebhookDelivery.objects.order_by("id").first()
    assert (first.attempts, first.response_code, first.status) == (1, 503, "pending")
    assert "503" in first.last_error

    assert services.webhook_deliver(webhook_id=webhook.id).again_in > 0  # not due yet
    assert len(http.requests) == 1
    due_now(webhook)
    services.webhook_deliver(webhook_id=webhook.id)
    first.refresh_from_db()
    # Exponential: the second failure waits twice as long as the first.
    assert first.attempts == 2
    waited = (first.next_attempt_at - first.last_attempt_at).total_seconds()
    assert waited == pytest.approx(2.0, abs=0.2)

    down = False
    due_now(webhook)
    assert services.webhook_deliver(webhook_id=webhook.id).delivered == 3
    assert [request.json["data"]["model"] for request in http.accepted] == ["0", "1", "2"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_a_refused_delivery_fails_at_once_and_the_next_goes(wakes, hook):
    webhook, http = hook
    http.answer = lambda request: 400 if request.json["data"]["model"] == "0" else 200
    boot(0)
    boot(1)
    assert services.webhook_deliver(webhook_id=webhook.id).delivered == 1
    assert list(WebhookDelivery.objects.order_by("id").values_list("status", "attempts")) == [
        ("failed", 1),
        ("delivered", 1),
    ]


def test_a_receiver_that_stays_down_fails_the_delivery_when_its_retry_time_ends(
    wakes, hook, settings
):
    webhook, http = hook
    http.answer = lambda request: 500
    boot(0)
    boot(1)
    WebhookDelivery.objects.update(
        queued_at=timezone.now() - timedelta(seconds=conf.get("OCPP_WEBHOOK_RETRY_FOR"))
    )
    sent = services.webhook_deliver(webhook_id=webhook.id)
    assert sent.delivered == 0 and sent.again_in is None
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"failed"}
    assert len(http.requests) == 2  # one last try each


def test_a_receiver_that_does_not_answer_is_retried(wakes, settings):
    with receiver() as http:
        url = http.url  # closed when the block ends: nothing listens there any more
    webhook = services.webhook_create(url=url, events=["charge_point.booted"], secret=SECRET)
    boot(0)
    assert services.webhook_deliver(webhook_id=webhook.id).again_in is not None
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.response_code is None
    assert "Connection refused" in delivery.last_error or "URLError" in delivery.last_error


def test_send_again_queues_a_delivery_afresh(wakes, hook):
    webhook, http = hook
    boot(0)
    services.webhook_deliver(webhook_id=webhook.id)
    delivery = WebhookDelivery.objects.get()
    services.webhook_delivery_resend(delivery=delivery)
    assert wakes[-1] == (webhook.id, 0.0)
    assert services.webhook_deliver(webhook_id=webhook.id).delivered == 1
    assert [request.json["id"] for request in http.accepted] == [str(delivery.event_id)] * 2
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)


def test_deliveries_of_a_deleted_webhook_go_with_it(wakes, hook):
    webhook, http = hook
    webhook_id = webhook.id
    boot(0)
    # As if recorded by a worker whose cache still listed the webhook after its delete.
    services.webhook_delete(webhook=webhook)
    WebhookDelivery.objects.create(
        webhook_id=webhook_id, event_id="00000000-0000-0000-0000-000000000001", event="x", body="{}"
    )
    assert services.webhook_deliver(webhook_id=webhook_id).delivered == 0
    assert not WebhookDelivery.objects.exists() and http.requests == []


def test_the_sweep_lists_webhooks_with_a_delivery_due(wakes, hook):
    webhook, _ = hook
    assert services.webhook_ids_due() == []
    boot(0)
    assert services.webhook_ids_due() == [webhook.id]
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    assert services.webhook_ids_due() == []
