"""The default middleware, driven directly with a MessageContext."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from charging.middleware import (
    AutoRemoteStartMiddleware,
    DataTransferHandler,
    MessageContext,
    StatusNotificationHandler,
)
from charging.middleware.auto_remote_start import FLOW
from charging.models import Connector, OutboundCall
from charging.protocol import Call
from charging.protocol.errors import PropertyConstraintViolation
from charging.services import auto_remote_start_ended
from tests.factories import event, make_charge_point

pytestmark = pytest.mark.django_db


def _context(point, action, payload):
    return MessageContext(
        charge_point=point,
        call=Call("u-1", action, payload),
        received_at=timezone.now(),
        envelope=dict(event("frame", text=json.dumps([2, "u-1", action, payload]))),
    )


def _status(connector_id, status):
    return {"connectorId": connector_id, "errorCode": "NoError", "status": status}


def test_send_call_records_a_queued_call_for_this_connection():
    point = make_charge_point()
    context = _context(point, "Heartbeat", {})
    call = context.send_call("ClearCache", {}, delay=2.0, flow="AutoRemoteStart")
    assert context.calls == [call]
    stored = OutboundCall.objects.get()
    assert (stored.action, stored.status, stored.delay, stored.flow) == (
        "ClearCache",
        "queued",
        2.0,
        "AutoRemoteStart",
    )
    assert stored.connection_id == "conn-1"


def test_send_call_refuses_a_payload_its_schema_rejects():
    context = _context(make_charge_point(), "Heartbeat", {})
    with pytest.raises(ValueError, match="RemoteStartTransaction"):
        context.send_call("RemoteStartTransaction", {"connectorId": 1})
    assert not OutboundCall.objects.exists()


def test_auto_remote_start_answers_first_then_sends_with_delay(settings):
    settings.OCPP_AUTO_REMOTE_START_ID_TAG = "AUTO"
    settings.OCPP_AUTO_REMOTE_START_DELAY = 1.5
    point = make_charge_point()
    context = _context(point, "StatusNotification", _status(1, "Preparing"))
    middleware = AutoRemoteStartMiddleware(StatusNotificationHandler())
    assert middleware(context) == {}
    assert Connector.objects.get(connector_id=1).status == "Preparing"
    [call] = context.calls
    assert (call.action, call.payload, call.delay, call.flow) == (
        "RemoteStartTransaction",
        {"connectorId": 1, "idTag": "AUTO"},
        1.5,
        FLOW,
    )


@pytest.mark.parametrize(
    ("connector_id", "status"), [(0, "Preparing"), (1, "Available"), (2, "Faulted")]
)
def test_auto_remote_start_only_for_a_connector_going_preparing(connector_id, status):
    context = _context(make_charge_point(), "StatusNotification", _status(connector_id, status))
    AutoRemoteStartMiddleware(StatusNotificationHandler())(context)
    assert context.calls == []


def test_auto_remote_start_sends_nothing_when_the_inner_handler_fails():
    context = _context(make_charge_point(), "StatusNotification", _status(-1, "Preparing"))
    with pytest.raises(PropertyConstraintViolation):
        AutoRemoteStartMiddleware(StatusNotificationHandler())(context)
    assert context.calls == []


@pytest.mark.parametrize(
    ("status", "response", "recorded"),
    [
        ("answered", {"status": "Accepted"}, "Accepted"),
        ("answered", {"status": "Rejected"}, "Rejected"),
        ("timeout", None, "timeout"),
        ("offline", None, "offline"),
    ],
)
def test_remote_start_callback_records_the_outcome_on_the_connector(status, response, recorded):
    point = make_charge_point()
    call = OutboundCall.objects.create(
        charge_point=point,
        unique_id="11111111-1111-1111-1111-111111111111",
        action="RemoteStartTransaction",
        payload={"connectorId": 2, "idTag": "AUTO"},
        status=status,
        response=response,
        answered_at=timezone.now(),
    )
    auto_remote_start_ended(call=call)
    connector = Connector.objects.get(charge_point=point, connector_id=2)
    assert connector.remote_start_status == recorded
    assert connector.remote_start_status_at == call.answered_at


def test_data_transfer_is_unknown_vendor_by_default():
    context = _context(make_charge_point(), "DataTransfer", {"vendorId": "acme"})
    assert DataTransferHandler()(context) == {"status": "UnknownVendorId"}
