"""Domain event signals (charging.events): each effect's signal once, after its commit, never for
a rolled-back effect or a repeated message, and nearly free when nothing listens."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import transaction

from charging import events, services
from charging.dispatch import handle_inbound
from charging.models import OutboundCallStatus, Transaction, Webhook
from tests.factories import CHARGER_TIME, call, event, iso, make_charge_point, sent, start_payload

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: on_commit runs


@pytest.fixture(autouse=True)
def _no_auto_remote_start(settings):
    settings.OCPP_AUTO_REMOTE_START = False


@pytest.fixture
def received():
    """Every signal sent, as (event name, its arguments), in order."""
    got: list[tuple[str, dict[str, Any]]] = []

    def record(sender: Any, **kwargs: Any) -> None:
        got.append((kwargs["event"], {"sender": sender, **kwargs}))

    for event_type in events.EVENTS.values():
        event_type.signal.connect(record, dispatch_uid="test-events")
    yield got
    for event_type in events.EVENTS.values():
        event_type.signal.disconnect(dispatch_uid="test-events")


def names(received: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [name for name, _ in received]


def meter_values(transaction_id: int, wh: int, at: str) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [{"timestamp": at, "sampledValue": [{"value": str(wh)}]}],
    }


def test_a_charging_session_sends_each_event_once_with_its_arguments(received):
    handle_inbound(event("connect", at=iso(CHARGER_TIME)))
    handle_inbound(
        call("b", "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"})
    )
    handle_inbound(
        call(
            "s",
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Charging"},
        )
    )
    reply = handle_inbound(call("t", "StartTransaction", start_payload(meterStart=1000)))
    transaction_id = sent(reply)[2]["transactionId"]
    handle_inbound(call("m", "MeterValues", meter_values(transaction_id, 1500, iso(CHARGER_TIME))))
    handle_inbound(
        call(
            "x",
            "StopTransaction",
            {"transactionId": transaction_id, "meterStop": 4500, "timestamp": iso(CHARGER_TIME)},
        )
    )
    handle_inbound(
        call(
            "e",
            "SecurityEventNotification",
            {"type": "InvalidFirmwareSignature", "timestamp": iso(CHARGER_TIME)},
        )
    )
    handle_inbound(event("disconnect", code=1000))

    assert names(received) == [
        "charge_point.connected",
        "charge_point.booted",
        "connector.status_changed",
        "transaction.started",
        "meter_values.recorded",
        "transaction.stopped",
        "security_event.received",
        "charge_point.disconnected",
    ]
    by_name = dict(received)
    for name, kwargs in received:
        assert isinstance(kwargs["event_id"], uuid.UUID), name
        assert kwargs["sender"] is events.EVENTS[name].sender
    assert by_name["charge_point.connected"]["charge_point"].id == "CP-1"
    assert by_name["charge_point.connected"]["connection_id"] == "conn-1"
    assert by_name["charge_point.booted"]["charge_point"].vendor == "A"
    assert by_name["connector.status_changed"]["status"] == "Charging"
    assert by_name["connector.status_changed"]["connector_id"] == 1
    assert by_name["transaction.started"]["transaction"].id == transaction_id
    stopped = by_name["transaction.stopped"]["transaction"]
    assert (stopped.meter_start, stopped.meter_stop) == (1000, 4500)
    assert (
        events.EVENTS["transaction.stopped"].data(**by_name["transaction.stopped"])["energy_wh"]
        == 3500
    )
    recorded = by_name["meter_values.recorded"]
    assert recorded["stored"] == 1 and recorded["samples"][0].value == "1500"
    assert recorded["transaction_id"] == transaction_id
    assert by_name["security_event.received"]["security_event"].type == "InvalidFirmwareSignature"
    assert by_name["charge_point.disconnected"]["code"] == 1000


def test_repeated_messages_with_no_new_effect_send_nothing(received):
    handle_inbound(event("connect"))
    connect_again = event("connect", conn="conn-2")
    handle_inbound(connect_again)
    handle_inbound(connect_again)  # redelivered: replayed
    start = call("t", "StartTransaction", start_payload())
    transaction_id = sent(handle_inbound(start))[2]["transactionId"]
    handle_inbound(start)  # redelivered
    handle_inbound(call("t2", "StartTransaction", start_payload()))  # a retry under a new id
    sample = meter_values(transaction_id, 1500, iso(CHARGER_TIME))
    handle_inbound(call("m", "MeterValues", sample))
    handle_inbound(call("m2", "MeterValues", sample))  # the same sample again
    stop = {"transactionId": transaction_id, "meterStop": 2000, "timestamp": iso(CHARGER_TIME)}
    handle_inbound(call("x", "StopTransaction", stop))
    handle_inbound(call("x2", "StopTransaction", stop))  # already stopped

    assert names(received) == [
        "charge_point.connected",
        "charge_point.connected",
        "transaction.started",
        "meter_values.recorded",
        "transaction.stopped",
    ]


def test_signals_wait_for_the_commit_and_a_rollback_sends_nothing(received):
    charge_point = make_charge_point()
    with transaction.atomic():
        services.transaction_start(
            charge_point=charge_point, connector_id=1, id_tag="A", meter_start=0, timestamp=None
        )
        assert received == []  # not before the commit
    assert names(received) == ["transaction.started"]

    with pytest.raises(RuntimeError), transaction.atomic():
        services.transaction_start(
            charge_point=charge_point, connector_id=2, id_tag="B", meter_start=0, timestamp=None
        )
        raise RuntimeError("the effect fails later")
    assert names(received) == ["transaction.started"]
    assert Transaction.objects.count() == 1


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (OutboundCallStatus.ANSWERED, "command.answered"),
        (OutboundCallStatus.TIMEOUT, "command.timed_out"),
        (OutboundCallStatus.CALL_ERROR, "command.failed"),
        (OutboundCallStatus.OFFLINE, "command.failed"),
    ],
)
def test_a_command_that_ends_sends_its_event_once(received, status, name):
    charge_point = make_charge_point()
    call_ = services.outbound_call_create(
        charge_point=charge_point, action="Reset", payload={"type": "Soft"}
    )
    response = {"status": "Accepted"} if status == OutboundCallStatus.ANSWERED else None
    services.outbound_call_complete(call=call_, status=status, response=response)
    services.outbound_call_complete(call=call_, status=status, response=response)  # ended
    assert names(received) == [name]
    assert received[0][1]["call"].unique_id == call_.unique_id


def test_a_command_refused_before_sending_is_failed(received):
    services.outbound_call_create(
        charge_point=make_charge_point(),
        action="Reset",
        payload={"type": "Soft"},
        status=OutboundCallStatus.OFFLINE,
    )
    assert names(received) == ["command.failed"]


def test_a_failing_receiver_neither_fails_the_message_nor_silences_the_others(received, caplog):
    def broken(**kwargs: Any) -> None:
        raise ValueError("a bug in an integration")

    events.transaction_started.connect(broken, dispatch_uid="test-broken")
    try:
        reply = handle_inbound(call("t", "StartTransaction", start_payload()))
    finally:
        events.transaction_started.disconnect(dispatch_uid="test-broken")
    assert sent(reply)[2]["idTagInfo"]["status"] == "Accepted"
    assert names(received) == ["transaction.started"]
    assert "a bug in an integration" in caplog.text


def test_emitting_with_no_receiver_and_no_webhook_runs_no_query(django_assert_num_queries):
    charge_point = make_charge_point()
    events.subscriptions.get()  # the cache, as a running worker has it
    with django_assert_num_queries(0):
        events.emit("charge_point.booted", charge_point=charge_point, at=None)


def test_a_webhook_saved_in_this_process_is_seen_at_once():
    events.subscriptions.get()
    webhook = Webhook.objects.create(url="http://x/", events=["transaction.started"], secret="s")
    assert events.subscriptions.get() == {"transaction.started": (webhook.id,)}
    webhook.delete()
    assert events.subscriptions.get() == {}
