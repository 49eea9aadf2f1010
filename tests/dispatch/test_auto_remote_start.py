"""The automatic RemoteStartTransaction through the dispatcher: decided on Preparing, confirmed
or cancelled by the `call_due` event when its delay ran out."""

from __future__ import annotations

import re

import pytest

from charging.dispatch import handle_inbound
from charging.models import Connector, OutboundCall
from tests.factories import call, event, make_charge_point

pytestmark = pytest.mark.django_db


def status(unique_id, value, connector_id=1):
    payload = {"connectorId": connector_id, "errorCode": "NoError", "status": value}
    return handle_inbound(call(unique_id, "StatusNotification", payload))


@pytest.fixture
def due_call():
    """The RemoteStartTransaction a connector going Preparing asked for (with `confirm`)."""
    make_charge_point()
    [wire_call] = status("s1", "Preparing")["calls"]
    assert wire_call["confirm"] is True and wire_call["delay"] > 0
    return wire_call


def call_due(wire_call, **fields):
    return handle_inbound(event("call_due", unique_id=wire_call["unique_id"], **fields))


def test_still_wanted_when_due_it_is_sent_without_delay(due_call):
    [sent] = call_due(due_call)["calls"]
    assert sent == {k: v for k, v in due_call.items() if k != "confirm"} | {"delay": 0.0}
    assert OutboundCall.objects.get(unique_id=due_call["unique_id"]).status == "sent"


@pytest.mark.parametrize(
    ("between", "reason"),
    [
        (lambda: status("s2", "Charging"), "the connector is Charging now, no longer Preparing"),
        (lambda: status("s2", "Available"), "the connector is Available now, no longer Preparing"),
        (
            lambda: handle_inbound(call("a1", "Authorize", {"idTag": "DRIVER"})),
            "an idTag was authorized \\d s ago: its driver is starting it",
        ),
    ],
)
def test_cancelled_when_due_after_what_happened_meanwhile(due_call, between, reason, caplog):
    between()
    assert call_due(due_call)["calls"] == []
    stored = OutboundCall.objects.get(unique_id=due_call["unique_id"])
    assert stored.status == "cancelled" and re.fullmatch(reason, stored.error_description)
    assert Connector.objects.get(connector_id=1).remote_start_status == "cancelled"
    assert f"{due_call['unique_id']} to connector 1 cancelled: {stored.error_description}" in (
        caplog.text
    )


def test_a_preparing_again_within_the_delay_asks_for_no_second_call(due_call, caplog):
    assert status("s2", "Preparing")["calls"] == []
    assert f"RemoteStartTransaction {due_call['unique_id']} is pending" in caplog.text
    assert call_due(due_call)["calls"] != []


def test_a_call_that_ended_or_belongs_to_another_connection_is_not_sent(due_call):
    assert call_due(due_call, conn="conn-2")["calls"] == []
    assert OutboundCall.objects.get(unique_id=due_call["unique_id"]).status == "sent"
    handle_inbound(event("call_timeout", unique_id=due_call["unique_id"]))
    assert call_due(due_call)["calls"] == []


def test_switched_off_no_call_at_all(settings):
    settings.OCPP_AUTO_REMOTE_START = False
    make_charge_point()
    assert status("s1", "Preparing")["calls"] == []
    assert not OutboundCall.objects.exists()
