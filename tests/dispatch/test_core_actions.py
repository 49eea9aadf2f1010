"""handle_inbound answers every Core CALL of a charge point and stores what it says."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from charging.dispatch import handle_inbound
from charging.models import ChargePoint, Connector, Message, MeterValue, Transaction
from tests.factories import CHARGER_TIME, call, iso, make_id_tag, sent, start_payload

pytestmark = pytest.mark.django_db


def _answer(unique_id, action, payload, **fields):
    reply = handle_inbound(call(unique_id, action, payload, **fields))
    assert reply["calls"] == [] or action == "StatusNotification"
    return sent(reply)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_reply_matches_the_event():
    envelope = call("1", "Heartbeat", {})
    reply = handle_inbound(envelope)
    assert (reply["v"], reply["id"], reply["cp"], reply["conn"]) == (
        1,
        envelope["id"],
        "CP-1",
        "conn-1",
    )


def test_boot_notification_is_accepted_with_our_interval_and_clock(settings):
    settings.OCPP_HEARTBEAT_INTERVAL = 300
    answer = _answer(
        "b1",
        "BootNotification",
        {"chargePointVendor": "Acme", "chargePointModel": "M1", "firmwareVersion": "2.0"},
    )
    assert answer[:2] == [3, "b1"]
    assert answer[2]["status"] == "Accepted" and answer[2]["interval"] == 300
    assert abs(_time(answer[2]["currentTime"]) - timezone.now()) < timedelta(seconds=5)
    point = ChargePoint.objects.get(pk="CP-1")
    assert (point.vendor, point.model, point.firmware_version) == ("Acme", "M1", "2.0")
    assert point.last_boot_at is not None and point.last_message_at is not None


def test_heartbeat_answers_our_clock():
    answer = _answer("h1", "Heartbeat", {})
    assert abs(_time(answer[2]["currentTime"]) - timezone.now()) < timedelta(seconds=5)
    assert ChargePoint.objects.get(pk="CP-1").last_heartbeat_at is not None


def test_authorize_answers_id_tag_info(settings):
    make_id_tag("BLOCKED", status="Blocked")
    assert _answer("a1", "Authorize", {"idTag": "BLOCKED"})[2] == {
        "idTagInfo": {"status": "Blocked"}
    }
    settings.OCPP_ACCEPT_UNKNOWN_ID_TAGS = False
    assert _answer("a2", "Authorize", {"idTag": "WHO"})[2] == {"idTagInfo": {"status": "Invalid"}}


@pytest.mark.parametrize(
    ("connector_id", "status", "error_code"),
    [
        (0, "Available", "NoError"),
        (1, "Faulted", "ConnectorLockFailure"),
        (2, "Unavailable", "NoError"),
    ],
)
def test_status_notification_is_stored_per_connector(connector_id, status, error_code):
    payload = {
        "connectorId": connector_id,
        "status": status,
        "errorCode": error_code,
        "timestamp": iso(CHARGER_TIME),
    }
    assert _answer("s1", "StatusNotification", payload) == [3, "s1", {}]
    connector = Connector.objects.get(charge_point_id="CP-1", connector_id=connector_id)
    assert (connector.status, connector.error_code) == (status, error_code)
    assert connector.timestamp == CHARGER_TIME and connector.status_updated_at != CHARGER_TIME


def test_start_meter_values_stop_session():
    start = _answer("t1", "StartTransaction", start_payload())
    transaction_id = start[2]["transactionId"]
    assert start[2]["idTagInfo"] == {"status": "Accepted"}
    meter = {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [
            {
                "timestamp": iso(CHARGER_TIME),
                "sampledValue": [
                    {"value": "1500"},
                    {"value": "3", "unit": "kW", "measurand": "Power.Active.Import"},
                ],
            }
        ],
    }
    assert _answer("t2", "MeterValues", meter) == [3, "t2", {}]
    stop = {
        "transactionId": transaction_id,
        "meterStop": 2500,
        "timestamp": iso(CHARGER_TIME + timedelta(hours=1)),
        "idTag": "TAG-1",
        "reason": "EVDisconnected",
    }
    assert _answer("t3", "StopTransaction", stop)[2] == {"idTagInfo": {"status": "Accepted"}}
    transaction = Transaction.objects.get(pk=transaction_id)
    assert transaction.started_at == CHARGER_TIME and transaction.start_received_at != CHARGER_TIME
    assert transaction.stopped_at == CHARGER_TIME + timedelta(hours=1)
    assert (transaction.meter_start, transaction.meter_stop, transaction.stop_reason) == (
        1000,
        2500,
        "EVDisconnected",
    )
    assert list(transaction.meter_values.order_by("id").values_list("value", flat=True)) == [
        "1500",
        "3",
    ]


def test_start_with_an_invalid_tag_still_gets_a_transaction(settings):
    settings.OCPP_ACCEPT_UNKNOWN_ID_TAGS = False
    answer = _answer("t1", "StartTransaction", start_payload(idTag="STRANGER"))
    assert answer[2]["idTagInfo"] == {"status": "Invalid"}
    assert Transaction.objects.get(pk=answer[2]["transactionId"]).id_tag_status == "Invalid"


def test_stop_without_reason_or_id_tag_is_local_and_empty():
    transaction_id = _answer("t1", "StartTransaction", start_payload())[2]["transactionId"]
    answer = _answer(
        "t2",
        "StopTransaction",
        {"transactionId": transaction_id, "meterStop": 1200, "timestamp": iso(CHARGER_TIME)},
    )
    assert answer == [3, "t2", {}]
    assert Transaction.objects.get(pk=transaction_id).stop_reason == "Local"


def test_stop_with_transaction_data_stores_it_as_meter_values():
    transaction_id = _answer("t1", "StartTransaction", start_payload())[2]["transactionId"]
    _answer(
        "t2",
        "StopTransaction",
        {
            "transactionId": transaction_id,
            "meterStop": 1200,
            "timestamp": iso(CHARGER_TIME),
            "reason": "Remote",
            "transactionData": [
                {
                    "timestamp": iso(CHARGER_TIME),
                    "sampledValue": [{"value": "1200", "context": "Transaction.End"}],
                }
            ],
        },
    )
    row = MeterValue.objects.get(transaction_id=transaction_id)
    assert (row.value, row.context) == ("1200", "Transaction.End")


def test_stop_of_an_unknown_transaction_is_answered_and_noted():
    answer = _answer(
        "t9",
        "StopTransaction",
        {"transactionId": 987654, "meterStop": 1, "timestamp": iso(CHARGER_TIME), "idTag": "TAG-1"},
    )
    assert answer == [3, "t9", {"idTagInfo": {"status": "Accepted"}}]
    assert not Transaction.objects.exists()
    assert "987654" in Message.objects.get(direction="in", unique_id="t9").note


def test_data_transfer_is_not_accepted():
    assert _answer("d1", "DataTransfer", {"vendorId": "acme", "data": "x"})[2] == {
        "status": "UnknownVendorId"
    }


def test_diagnostics_and_firmware_status_are_stored():
    assert _answer("n1", "DiagnosticsStatusNotification", {"status": "Uploading"}) == [3, "n1", {}]
    assert _answer("n2", "FirmwareStatusNotification", {"status": "Installed"}) == [3, "n2", {}]
    point = ChargePoint.objects.get(pk="CP-1")
    assert (point.diagnostics_status, point.firmware_status) == ("Uploading", "Installed")


def test_every_frame_is_recorded_with_its_answer_linked():
    handle_inbound(call("h1", "Heartbeat", {}))
    inbound = Message.objects.get(direction="in")
    outbound = Message.objects.get(direction="out")
    assert (inbound.message_type, inbound.action, inbound.payload) == (2, "Heartbeat", {})
    assert inbound.frame_id is not None and inbound.received_at is not None
    assert outbound.answer_to == inbound and outbound.message_type == 3
    assert outbound.raw.startswith('[3,"h1",')
