"""OCPP_MIDDLEWARE set explicitly, and what the dispatcher makes of middleware that misbehave."""

from __future__ import annotations

import pytest
from ocpp.v16.enums import Action as OcppAction

from charging import Action, MessageType
from charging.dispatch import handle_inbound
from charging.middleware import (
    DataTransferHandler,
    DataTransferMiddleware,
    HeartbeatHandler,
    Middleware,
)
from charging.models import Connector, Message, OutboundCall
from charging.protocol.errors import SecurityError
from tests.factories import call, make_charge_point, sent

pytestmark = pytest.mark.django_db

STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"}


class AcmeDataTransfer(Middleware):
    """Handles vendor `acme`, passes everything else on."""

    def __call__(self, context):
        if context.call.payload["vendorId"] == "acme":
            return {"status": "Accepted", "data": "hello"}
        return self.get_response(context)


class WritesThenFails(Middleware):
    def __call__(self, context):
        Connector.objects.create(charge_point=context.charge_point, connector_id=5)
        context.send_call("ClearCache", {})
        raise KeyError("secret internals")


class WritesThenRefuses(Middleware):
    def __call__(self, context):
        Connector.objects.create(charge_point=context.charge_point, connector_id=6)
        context.send_call("ClearCache", {})
        raise SecurityError(description="not you")


class AnswersNonsense(Middleware):
    def __call__(self, context):
        Connector.objects.create(charge_point=context.charge_point, connector_id=7)
        return {"currentTime": 12}


@pytest.mark.parametrize(
    "table",
    [
        {
            (Action.DataTransfer, MessageType.call): [AcmeDataTransfer, DataTransferHandler],
            (OcppAction.heartbeat, MessageType.call): [HeartbeatHandler],
        },
        {
            ("DataTransfer", 2): [
                f"{__name__}.AcmeDataTransfer",
                "charging.middleware.DataTransferHandler",
            ],
            ("Heartbeat", 2): ["charging.middleware.HeartbeatHandler"],
        },
        {
            ("DataTransfer", 2): [AcmeDataTransfer, DataTransferMiddleware],
            ("Heartbeat", 2): ["charging.middleware.core.HeartbeatMiddleware"],
        },
    ],
    ids=["classes", "dotted-strings", "former-names"],
)
def test_explicit_tables_work(settings, table):
    settings.OCPP_MIDDLEWARE = table
    assert sent(handle_inbound(call("d1", "DataTransfer", {"vendorId": "acme"})))[2] == {
        "status": "Accepted",
        "data": "hello",
    }
    assert sent(handle_inbound(call("d2", "DataTransfer", {"vendorId": "other"})))[2] == {
        "status": "UnknownVendorId"
    }
    assert sent(handle_inbound(call("h1", "Heartbeat", {})))[0] == 3
    # Not in the table: known action, not supported here.
    assert sent(handle_inbound(call("s1", "StatusNotification", STATUS)))[2] == "NotSupported"


def test_an_unexpected_exception_is_a_generic_internal_error_and_rolled_back(settings, caplog):
    settings.OCPP_MIDDLEWARE = {("StatusNotification", 2): [WritesThenFails]}
    reply = handle_inbound(call("s1", "StatusNotification", STATUS))
    answer = sent(reply)
    assert answer[:3] == [4, "s1", "InternalError"]
    assert "secret" not in reply["send"]
    assert "secret internals" in caplog.text  # the traceback is logged
    assert reply["calls"] == [] and not OutboundCall.objects.exists()
    assert not Connector.objects.exists()
    # The frame and its CALLERROR are recorded once each, from the attempt run afresh.
    inbound = Message.objects.get(direction="in", unique_id="s1")
    assert inbound.answers.get().raw == reply["send"]
    assert inbound.charge_point.last_call_unique_id == "s1"


def test_an_ocpp_error_is_answered_with_its_code_and_rolled_back(settings):
    settings.OCPP_MIDDLEWARE = {("StatusNotification", 2): [WritesThenRefuses]}
    reply = handle_inbound(call("s1", "StatusNotification", STATUS))
    assert sent(reply)[:4] == [4, "s1", "SecurityError", "not you"]
    assert reply["calls"] == [] and not OutboundCall.objects.exists()
    assert not Connector.objects.exists()


def test_an_invalid_response_of_ours_is_an_internal_error(settings):
    settings.OCPP_MIDDLEWARE = {("Heartbeat", 2): [AnswersNonsense]}
    answer = sent(handle_inbound(call("h1", "Heartbeat", {})))
    assert answer[:3] == [4, "h1", "InternalError"]
    assert not Connector.objects.exists()


def test_a_bad_setting_at_runtime_is_an_internal_error_not_a_crash(settings):
    settings.OCPP_MIDDLEWARE = {("Heartbeat", 2): ["charging.nope.Missing"]}
    assert sent(handle_inbound(call("h1", "Heartbeat", {})))[2] == "InternalError"


class AcceptsEveryTag(Middleware):
    def __call__(self, context):
        return {"idTagInfo": {"status": "Accepted"}}


def test_the_approval_gate_holds_whatever_the_table(settings):
    settings.OCPP_MIDDLEWARE = {("Authorize", 2): [AcceptsEveryTag]}
    point = make_charge_point("CP-1", approved=False)
    reply = handle_inbound(call("a1", "Authorize", {"idTag": "T"}))
    assert sent(reply)[:3] == [4, "a1", "SecurityError"]
    assert Message.objects.get(direction="in", unique_id="a1").answers.get().raw == reply["send"]
    point.approved = True
    point.save(update_fields=["approved"])
    assert sent(handle_inbound(call("a2", "Authorize", {"idTag": "T"})))[2] == {
        "idTagInfo": {"status": "Accepted"}
    }
