"""Redelivered events and repeated unique ids get the stored answer and no second effect."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, OperationalError

from charging import dispatch, services
from charging.dispatch import handle_inbound
from charging.models import (
    ChargePoint,
    ConnectionEvent,
    Message,
    MeterValue,
    OutboundCall,
    OutboundCallStatus,
    Transaction,
)
from tests.factories import call, event, sent, start_payload

pytestmark = pytest.mark.django_db


def test_a_redelivered_frame_replays_its_answer_without_a_second_effect():
    envelope = call("s1", "StartTransaction", start_payload())
    first = handle_inbound(envelope)
    second = handle_inbound(envelope)
    assert second == first
    assert Transaction.objects.count() == 1
    assert Message.objects.filter(direction="in").count() == 1


def test_a_redelivered_frame_replays_its_pending_calls_only():
    envelope = call(
        "p1",
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"},
    )
    first = handle_inbound(envelope)
    assert len(first["calls"]) == 1
    assert handle_inbound(envelope)["calls"] == first["calls"]
    assert OutboundCall.objects.count() == 1
    OutboundCall.objects.update(status="answered")
    assert handle_inbound(envelope)["calls"] == []  # already answered: not sent twice


def test_a_redelivered_unanswerable_frame_replays_no_answer():
    envelope = event("frame", text="garbage")
    assert handle_inbound(envelope)["send"] is None
    assert handle_inbound(envelope)["send"] is None
    assert Message.objects.count() == 1


def test_a_redelivered_connect_is_recorded_once():
    envelope = event("connect", remote="1.2.3.4", subprotocol="ocpp1.6")
    handle_inbound(envelope)
    handle_inbound(envelope)
    assert ConnectionEvent.objects.count() == 1


def test_a_redelivered_disconnect_is_recorded_once_and_changes_nothing_again():
    handle_inbound(event("connect", remote="1.2.3.4", subprotocol="ocpp1.6"))
    envelope = event("disconnect", code=1006, reason="")
    handle_inbound(envelope)
    ChargePoint.objects.filter(pk="CP-1").update(connected=True)  # as if a later event said so
    handle_inbound(envelope)
    assert ConnectionEvent.objects.filter(kind="disconnect").count() == 1
    assert ChargePoint.objects.get(pk="CP-1").connected  # the redelivery took nothing offline


def test_an_integrity_error_that_is_not_a_redelivery_is_not_taken_for_one(monkeypatch, caplog):
    def broken(**kwargs):
        raise IntegrityError("another constraint")

    monkeypatch.setattr(services, "charge_point_disconnected", broken)
    handle_inbound(event("disconnect", code=1006, reason=""))
    assert "disconnect event" in caplog.text and "failed" in caplog.text
    assert "redelivered" not in caplog.text


def test_a_repeated_unique_id_gets_the_same_answer_and_is_recorded():
    first = handle_inbound(call("r1", "StartTransaction", start_payload()))
    again = handle_inbound(call("r1", "StartTransaction", start_payload()))
    assert again["send"] == first["send"]
    assert Transaction.objects.count() == 1
    repeat = Message.objects.filter(direction="in", unique_id="r1").order_by("id").last()
    assert "repeat of message" in repeat.note
    assert repeat.answers.get().raw == first["send"]


def test_a_start_retried_under_a_new_unique_id_keeps_its_transaction_open():
    first = sent(handle_inbound(call("s1", "StartTransaction", start_payload())))
    handle_inbound(call("h1", "Heartbeat", {}))
    again = sent(handle_inbound(call("s2", "StartTransaction", start_payload())))
    assert again[2]["transactionId"] == first[2]["transactionId"]
    (transaction,) = Transaction.objects.all()
    assert transaction.is_open and not transaction.closed_as_orphan
    other = sent(handle_inbound(call("s3", "StartTransaction", start_payload(meterStart=999))))
    transaction.refresh_from_db()
    assert other[2]["transactionId"] != transaction.pk and transaction.closed_as_orphan


def test_a_reused_unique_id_with_another_payload_is_processed():
    first = sent(handle_inbound(call("r1", "StartTransaction", start_payload())))
    other = sent(handle_inbound(call("r1", "StartTransaction", start_payload(connectorId=2))))
    assert other[2]["transactionId"] != first[2]["transactionId"]
    assert Transaction.objects.count() == 2


def test_a_unique_id_reused_after_other_calls_is_processed():
    # Chargers that restart their counter reuse ids: only a direct repeat is a retry (§4.1.1).
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
    handle_inbound(call("1", "StatusNotification", status))
    handle_inbound(call("2", "StatusNotification", {**status, "status": "Charging"}))
    handle_inbound(call("1", "StatusNotification", status))
    from charging.models import Connector

    assert Connector.objects.get(connector_id=1).status == "Available"
    assert not Message.objects.exclude(note="").exists()


def test_a_repeated_heartbeat_is_answered_afresh():
    handle_inbound(call("h", "Heartbeat", {}))
    handle_inbound(call("h", "Heartbeat", {}))
    assert not Message.objects.exclude(note="").exists()
    assert Message.objects.filter(direction="out").count() == 2


def test_a_repeat_of_a_call_error_is_processed_again():
    bad = {"connectorId": -1, "errorCode": "NoError", "status": "Available"}
    first = sent(handle_inbound(call("e1", "StatusNotification", bad)))
    second = sent(handle_inbound(call("e1", "StatusNotification", bad)))
    assert first[0] == second[0] == 4
    assert not Message.objects.exclude(note="").exists()


def test_transient_database_errors_are_retried_in_process(monkeypatch):
    real = dispatch._handle
    attempts = []

    def flaky(envelope, closes):
        attempts.append(1)
        if len(attempts) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real(envelope, closes)

    monkeypatch.setattr(dispatch, "_handle", flaky)
    monkeypatch.setattr(dispatch.time, "sleep", lambda seconds: None)
    reply = handle_inbound(call("h1", "Heartbeat", {}))
    assert len(attempts) == 3
    assert sent(reply)[:2] == [3, "h1"]


def test_when_the_database_stays_down_a_call_still_gets_an_internal_error(monkeypatch, settings):
    settings.OCPP_DB_RETRY_SECONDS = 0.2

    def down(envelope, closes):
        raise OperationalError("could not connect")

    monkeypatch.setattr(dispatch, "_handle", down)
    reply = handle_inbound(call("h1", "Heartbeat", {}))
    answer = sent(reply)
    assert answer[:3] == [4, "h1", "InternalError"]
    assert "connect" not in answer[3]
    assert handle_inbound(event("connect"))["send"] is None


def test_meter_values_sent_again_under_a_new_unique_id_are_stored_once():
    # A charger that gave up on a CALL's unique id sends the same MeterValues under a new one.
    started = sent(handle_inbound(call("m0", "StartTransaction", start_payload())))
    values = {
        "connectorId": 1,
        "transactionId": started[2]["transactionId"],
        "meterValue": [
            {"timestamp": "2026-03-01T10:00:10Z", "sampledValue": [{"value": "1200"}]},
        ],
    }
    first = handle_inbound(call("m1", "MeterValues", values))
    again = handle_inbound(call("m2", "MeterValues", values))
    assert sent(again)[0] == 3 and sent(again)[2] == sent(first)[2] == {}
    assert MeterValue.objects.count() == 1
    repeat = Message.objects.get(direction="in", unique_id="m2")
    assert "repeat: 1 of 1 sampled values already stored" in repeat.note


def test_a_preparing_status_sent_again_under_a_new_unique_id_starts_one_remote_start():
    preparing = {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Preparing",
        "timestamp": "2026-03-01T10:00:00Z",
    }
    assert len(handle_inbound(call("p1", "StatusNotification", preparing))["calls"]) == 1
    # Refused: no cooldown (charging.services.auto_remote_start) keeps the next one back.
    services.outbound_call_complete(
        call=OutboundCall.objects.get(action="RemoteStartTransaction"),
        status=OutboundCallStatus.ANSWERED,
        response={"status": "Rejected"},
    )
    assert handle_inbound(call("p2", "StatusNotification", preparing))["calls"] == []
    # A new report (a later charger time) is a new Preparing.
    later = {**preparing, "timestamp": "2026-03-01T10:05:00Z"}
    assert len(handle_inbound(call("p3", "StatusNotification", later))["calls"]) == 1
    assert OutboundCall.objects.filter(action="RemoteStartTransaction").count() == 2


def test_a_security_event_sent_again_under_a_new_unique_id_is_stored_once():
    from charging.models import SecurityEvent

    payload = {"type": "TamperDetectionActivated", "timestamp": "2026-03-01T10:00:00Z"}
    for unique_id in ("e1", "e2"):
        assert sent(handle_inbound(call(unique_id, "SecurityEventNotification", payload)))[2] == {}
    later = {**payload, "timestamp": "2026-03-01T10:01:00Z"}
    handle_inbound(call("e3", "SecurityEventNotification", later))
    assert SecurityEvent.objects.count() == 2


def test_a_job_status_sent_again_under_a_new_unique_id_is_one_step():
    from charging import services
    from charging.models import ChargePoint, ChargerJob

    handle_inbound(event("connect", remote="1.2.3.4", subprotocol="ocpp1.6"))
    job = services.job_create(
        charge_point=ChargePoint.objects.get(), action="UpdateFirmware", payload={"location": "x"}
    )
    for unique_id in ("f1", "f2"):
        handle_inbound(call(unique_id, "FirmwareStatusNotification", {"status": "Downloading"}))
    handle_inbound(call("f3", "FirmwareStatusNotification", {"status": "Downloaded"}))
    statuses = [step["status"] for step in ChargerJob.objects.get(pk=job.pk).history]
    assert statuses == ["Requested", "Downloading", "Downloaded"]
