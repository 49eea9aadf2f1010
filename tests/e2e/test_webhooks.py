"""Webhooks end to end: a charger's session through gateway → RabbitMQ → the `-Q cp.*` worker,
whose deliveries (on `levity.webhooks`) reach a real local HTTP receiver, signed and in order,
also when the receiver is down for a while and comes back."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime

import pytest
from ocpp.v16 import call

from charging.models import Webhook, WebhookDelivery
from levity.devstack import ROOT, charger, free_port, wait_until
from tests.receiver import receiver

from .test_levity_up import levity_up_embedded

pytestmark = pytest.mark.e2e

SECRET = "e2e-secret"
EVENTS = ["transaction.started", "meter_values.recorded", "transaction.stopped"]


def session(port: int, cp_id: str, sessions: int = 1) -> None:
    """`sessions` charging sessions of `cp_id`: start, one meter value, stop, each."""
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).isoformat()

    async def run() -> None:
        async with charger(port, cp_id) as cp:
            await cp.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
            for number in range(sessions):
                start = await cp.call(
                    call.StartTransaction(
                        connector_id=1, id_tag="TAG-1", meter_start=number * 1000, timestamp=at
                    )
                )
                sample = {"timestamp": at, "sampledValue": [{"value": str(number * 1000 + 500)}]}
                await cp.call(
                    call.MeterValues(
                        connector_id=1, transaction_id=start.transaction_id, meter_value=[sample]
                    )
                )
                await cp.call(
                    call.StopTransaction(
                        meter_stop=number * 1000 + 900,
                        timestamp=at,
                        transaction_id=start.transaction_id,
                    )
                )

    asyncio.run(run())


def verified(request) -> bool:
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers["x-levity-signature"], f"sha256={expected}")


@pytest.mark.usefixtures("e2e_db")
def test_a_session_is_delivered_signed_and_in_order(stack):
    with receiver() as http:
        Webhook.objects.create(url=http.url, events=EVENTS, secret=SECRET)
        session(stack.port, "E2E-HOOK")
        wait_until(lambda: len(http.accepted) >= 3, timeout=30, what="3 deliveries")
        assert http.events() == EVENTS
        assert all(verified(request) for request in http.accepted)
        started, recorded, stopped = (request.json for request in http.accepted)
        assert started["data"]["charge_point_id"] == "E2E-HOOK"
        assert recorded["data"]["samples"][0]["value"] == "500"
        assert stopped["data"]["energy_wh"] == 900
        ids = [request.headers["x-levity-event-id"] for request in http.accepted]
        assert ids == [started["id"], recorded["id"], stopped["id"]] and len(set(ids)) == 3
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}


@pytest.mark.usefixtures("e2e_db")
def test_a_receiver_down_for_a_while_gets_every_delivery_in_order_when_it_is_back(stack):
    port = free_port()  # nothing listens there yet: connection refused
    Webhook.objects.create(url=f"http://127.0.0.1:{port}/hook", events=EVENTS, secret=SECRET)
    session(stack.port, "E2E-HOOK-DOWN", sessions=2)
    wait_until(
        lambda: WebhookDelivery.objects.filter(attempts__gte=2).exists(),
        timeout=30,
        what="the first delivery retried",
    )
    # Nothing but the oldest delivery was tried: the later ones wait behind it.
    assert WebhookDelivery.objects.filter(attempts__gt=0).count() == 1
    assert WebhookDelivery.objects.count() == 6

    with receiver(port) as http:
        unavailable = iter([503, 503])  # back, but answering 503 for a little longer
        http.answer = lambda request: next(unavailable, 200)
        wait_until(lambda: len(http.accepted) == 6, timeout=60, what="6 deliveries")
        assert http.events() == EVENTS * 2
        assert [request.json["data"].get("meter_start") for request in http.accepted[::3]] == [
            0,
            1000,
        ]
        assert all(verified(request) for request in http.accepted)
        assert len(http.requests) == 8  # the two 503s, then each once
    deliveries = list(WebhookDelivery.objects.order_by("id"))
    assert [delivery.status for delivery in deliveries] == ["delivered"] * 6
    assert deliveries[0].attempts >= 4 and deliveries[0].response_code == 200
    assert [delivery.attempts for delivery in deliveries[1:]] == [1] * 5


def test_levity_up_embedded_sends_webhooks_from_its_own_thread(tmp_path, monkeypatch):
    """`levity up` without a broker: the API's webhook gets the session from the embedded
    process's sender thread, retried in order while the receiver answers 503."""
    monkeypatch.setenv("OCPP_WEBHOOK_RETRY_FIRST", "0.2")
    with receiver() as http, levity_up_embedded(tmp_path) as (port, web_port, env, _up):
        unavailable = iter([503, 503])
        http.answer = lambda request: next(unavailable, 200)
        manage_env = {**env, "DJANGO_SETTINGS_MODULE": "levity_backend.settings", "AMQP_URL": ""}
        token = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup();"
                "from django.contrib.auth.models import User;"
                "from rest_framework.authtoken.models import Token;"
                "print(Token.objects.create(user=User.objects.create_superuser('op', '', 'pw')))",
            ],
            env=manage_env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        request = urllib.request.Request(
            f"http://127.0.0.1:{web_port}/api/v1/webhooks/",
            data=json.dumps({"url": http.url, "events": EVENTS, "secret": SECRET}).encode(),
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 201
        session(port, "UP-HOOK")
        wait_until(lambda: len(http.accepted) == 3, timeout=30, what="3 deliveries")
        assert http.events() == EVENTS
        assert all(verified(request) for request in http.accepted)
        assert len(http.requests) == 5
