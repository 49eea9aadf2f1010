"""Calls to the charger: requested by middleware, sent with the reply, completed by its answer."""

from __future__ import annotations

import json

import pytest

from charging.dispatch import handle_inbound
from charging.models import Connector, Message, OutboundCall
from tests.factories import call, event, frame, make_charge_point, sent

pytestmark = pytest.mark.django_db

PREPARING = {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"}


def _preparing(settings, **fields):
    settings.OCPP_AUTO_REMOTE_START_DELAY = 2.5
    settings.OCPP_AUTO_REMOTE_START_ID_TAG = "AUTO"
    settings.OCPP_CALL_TIMEOUT = 20.0
    reply = handle_inbound(call("s1", "StatusNotification", PREPARING, **fields))
    assert sent(reply) == [3, "s1", {}]
    [wire_call] = reply["calls"]
    return wire_call


def test_auto_remote_start_produces_a_delayed_call(settings):
    wire_call = _preparing(settings)
    assert (wire_call["action"], wire_call["delay"], wire_call["timeout"]) == (
        "RemoteStartTransaction",
        2.5,
        20.0,
    )
    assert json.loads(wire_call["text"]) == [
        2,
        wire_call["unique_id"],
        "RemoteStartTransaction",
        {"connectorId": 1, "idTag": "AUTO"},
    ]
    stored = OutboundCall.objects.get(unique_id=wire_call["unique_id"])
    assert stored.status == "sent" and stored.sent_at is not None
    assert stored.message.raw == wire_call["text"] and stored.message.direction == "out"


@pytest.mark.parametrize(
    ("status", "recorded"), [("Accepted", "Accepted"), ("Rejected", "Rejected")]
)
def test_the_chargers_answer_completes_the_call_and_runs_its_callback(settings, status, recorded):
    wire_call = _preparing(settings)
    reply = handle_inbound(frame([3, wire_call["unique_id"], {"status": status}]))
    assert reply["send"] is None and reply["calls"] == []
    stored = OutboundCall.objects.get(unique_id=wire_call["unique_id"])
    assert (stored.status, stored.response) == ("answered", {"status": status})
    assert Connector.objects.get(connector_id=1).remote_start_status == recorded
    answer = Message.objects.get(direction="in", message_type=3)
    assert answer.answer_to == stored.message and answer.action == "RemoteStartTransaction"


def test_a_call_error_from_the_charger_is_parsed_and_recorded(settings):
    wire_call = _preparing(settings)
    handle_inbound(frame([4, wire_call["unique_id"], "NotSupported", "nope", {"why": "x"}]))
    stored = OutboundCall.objects.get(unique_id=wire_call["unique_id"])
    assert (stored.status, stored.error_code, stored.error_description) == (
        "call_error",
        "NotSupported",
        "nope",
    )
    message = Message.objects.get(direction="in", message_type=4)
    assert (message.error_code, message.error_details) == ("NotSupported", {"why": "x"})
    assert Connector.objects.get(connector_id=1).remote_start_status == "call_error"


def test_an_invalid_call_result_is_recorded_as_an_error_on_the_call(settings):
    wire_call = _preparing(settings)
    reply = handle_inbound(frame([3, wire_call["unique_id"], {"status": "Maybe"}]))
    assert reply["send"] is None
    stored = OutboundCall.objects.get(unique_id=wire_call["unique_id"])
    assert stored.status == "call_error" and stored.error_code == "PropertyConstraintViolation"
    assert stored.response == {"status": "Maybe"}


def test_answers_to_unknown_or_ended_calls_are_noted_never_fatal(settings):
    reply = handle_inbound(frame([3, "nobody-asked", {}]))
    assert reply["send"] is None
    assert "did not send" in Message.objects.get(unique_id="nobody-asked").note
    wire_call = _preparing(settings)
    handle_inbound(event("call_timeout", unique_id=wire_call["unique_id"]))
    assert Connector.objects.get(connector_id=1).remote_start_status == "timeout"
    # The charger did answer after all: its answer replaces the timeout, effects included.
    handle_inbound(frame([3, wire_call["unique_id"], {"status": "Accepted"}]))
    stored = OutboundCall.objects.get(unique_id=wire_call["unique_id"])
    assert stored.status == "answered" and stored.response == {"status": "Accepted"}
    answers = Message.objects.filter(direction="in", message_type=3, unique_id=stored.unique_id)
    assert "late answer: it replaces the call's timeout" in answers.get().note
    assert Connector.objects.get(connector_id=1).remote_start_status == "Accepted"
    # A second answer to an answered call changes nothing.
    handle_inbound(frame([3, wire_call["unique_id"], {"status": "Rejected"}]))
    stored.refresh_from_db()
    assert stored.response == {"status": "Accepted"}
    assert "already ended (answered)" in answers.order_by("id").last().note


def test_call_timeout_of_an_unknown_call_is_harmless():
    assert handle_inbound(event("call_timeout", unique_id="nope"))["send"] is None


def test_disconnect_marks_the_connections_calls_offline(settings):
    make_charge_point(connection_id="conn-1")
    wire_call = _preparing(settings)
    handle_inbound(event("disconnect", code=1006, reason="gone"))
    assert OutboundCall.objects.get(unique_id=wire_call["unique_id"]).status == "offline"
    assert Connector.objects.get(connector_id=1).remote_start_status == "offline"


def test_connect_and_disconnect_track_the_current_connection():
    handle_inbound(event("connect", conn="c1", remote="10.0.0.1", subprotocol="ocpp1.6"))
    handle_inbound(event("connect", conn="c2", remote="10.0.0.2", subprotocol=None))
    reply = handle_inbound(event("disconnect", conn="c1", code=1000, reason=""))
    assert reply["send"] is None and reply["conn"] == "c1"
    from charging.models import ChargePoint, ConnectionEvent

    point = ChargePoint.objects.get(pk="CP-1")
    assert point.connected and point.connection_id == "c2"
    handle_inbound(event("disconnect", conn="c2", code=1001, reason="bye"))
    point.refresh_from_db()
    assert not point.connected and point.last_disconnect_at is not None
    assert ConnectionEvent.objects.count() == 4
