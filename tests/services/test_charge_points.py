"""Services of charge points and connectors: boot, heartbeat, connection state, statuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from charging import services
from charging.models import ChargePoint, ConnectionEvent, Connector, OutboundCall
from tests.factories import CHARGER_TIME, make_charge_point

pytestmark = pytest.mark.django_db


def test_charge_point_lock_creates_on_first_contact_and_rejects_bad_ids():
    point = services.charge_point_lock(charge_point_id="NEW-1")
    assert ChargePoint.objects.filter(id="NEW-1").exists()
    assert services.charge_point_lock(charge_point_id="NEW-1") == point
    with pytest.raises(ValueError):
        services.charge_point_lock(charge_point_id="x" * 49)
    with pytest.raises(ValueError):
        services.charge_point_lock(charge_point_id="")


def test_lock_received_notes_the_frame_and_compares_a_call_with_the_latest_before_it():
    at = timezone.now()
    point = services.charge_point_lock_received(
        charge_point_id="NEW-2", at=at, call=("1", "Heartbeat")
    )
    assert point.last_message_at == at and not point.last_call_repeat  # created on first contact

    def received(call):
        return services.charge_point_lock_received(charge_point_id="NEW-2", at=at, call=call)

    assert received(("1", "Heartbeat")).last_call_repeat
    assert not received(("1", "Authorize")).last_call_repeat  # same id, other action
    assert not received(("2", "Authorize")).last_call_repeat
    received(None)  # an answer to one of our CALLs in between changes nothing
    assert received(("2", "Authorize")).last_call_repeat
    stored = ChargePoint.objects.get(id="NEW-2")
    assert (stored.last_call_unique_id, stored.last_call_action) == ("2", "Authorize")
    assert stored.last_message_at == at
    with pytest.raises(ValueError):
        services.charge_point_lock_received(charge_point_id="x" * 49, at=at)


def test_boot_stores_hardware_and_accepts():
    point = make_charge_point()
    services.charge_point_boot(
        charge_point=point,
        vendor="Acme",
        model="M1",
        serial_number="S1",
        charge_box_serial_number="B1",
        firmware_version="1.0",
        iccid="I",
        imsi="M",
        meter_type="MT",
        meter_serial_number="MS",
        at=CHARGER_TIME,
    )
    point.refresh_from_db()
    assert (point.vendor, point.model, point.serial_number, point.charge_box_serial_number) == (
        "Acme",
        "M1",
        "S1",
        "B1",
    )
    assert (point.firmware_version, point.iccid, point.imsi) == ("1.0", "I", "M")
    assert (point.meter_type, point.meter_serial_number) == ("MT", "MS")
    assert point.registration_status == "Accepted"
    assert point.last_boot_at == CHARGER_TIME


def test_heartbeat_and_statuses_are_timed():
    point = make_charge_point()
    services.charge_point_heartbeat(charge_point=point)
    services.charge_point_diagnostics_status(charge_point=point, status="Uploaded")
    services.charge_point_firmware_status(charge_point=point, status="Installing")
    point.refresh_from_db()
    assert point.last_heartbeat_at is not None
    assert (point.diagnostics_status, point.firmware_status) == ("Uploaded", "Installing")
    assert point.diagnostics_status_at is not None and point.firmware_status_at is not None


def test_connected_takes_over_and_records_an_event():
    point = make_charge_point(connected=False, connection_id="")
    event = services.charge_point_connected(
        charge_point=point,
        connection_id="c2",
        gateway_id="g",
        remote="10.0.0.1:5000",
        subprotocol="ocpp1.6",
        frame_id="f1",
    )
    point.refresh_from_db()
    assert point.connected and point.connection_id == "c2" and point.gateway_id == "g"
    assert (event.kind, event.remote, event.subprotocol) == ("connect", "10.0.0.1:5000", "ocpp1.6")


def test_a_stale_connect_is_recorded_but_does_not_take_over():
    now = timezone.now()
    point = make_charge_point(connection_id="new", last_connect_at=now)
    services.charge_point_connected(
        charge_point=point, connection_id="old", at=now - timedelta(seconds=5)
    )
    point.refresh_from_db()
    assert point.connection_id == "new"
    assert ConnectionEvent.objects.filter(connection_id="old", kind="connect").exists()


def test_disconnect_of_an_old_connection_keeps_the_current_one():
    point = make_charge_point(connection_id="new")
    services.charge_point_disconnected(charge_point=point, connection_id="old", code=1006)
    point.refresh_from_db()
    assert point.connected is True
    assert ConnectionEvent.objects.get(kind="disconnect").close_code == 1006


def test_disconnect_of_the_current_connection_marks_its_pending_calls_offline():
    point = make_charge_point(connection_id="c1")
    mine = services.outbound_call_create(charge_point=point, action="ClearCache", payload={})
    other = services.outbound_call_create(
        charge_point=point, action="ClearCache", payload={}, connection_id="c0"
    )
    services.charge_point_disconnected(charge_point=point, connection_id="c1", reason="bye")
    point.refresh_from_db()
    assert point.connected is False and point.last_disconnect_at is not None
    assert OutboundCall.objects.get(pk=mine.pk).status == "offline"
    assert OutboundCall.objects.get(pk=other.pk).status == "queued"


def _sent_on(point, connection_id: str, gateway_id: str) -> OutboundCall:
    services.charge_point_connected(
        charge_point=point, connection_id=connection_id, gateway_id=gateway_id
    )
    call = services.outbound_call_create(
        charge_point=point, action="Reset", payload={"type": "Hard"}, connection_id=connection_id
    )
    OutboundCall.objects.filter(pk=call.pk).update(status="sent")
    return call


def test_a_reconnect_through_the_same_gateway_leaves_the_older_connections_calls_to_it():
    # The charger answered the Reset and reconnected at once (OCTT TC_013): its answer, read
    # on the old connection, comes after the new connection's connect.
    point = make_charge_point(connection_id="")
    reset = _sent_on(point, "c0", "gw-1")
    services.charge_point_connected(charge_point=point, connection_id="c1", gateway_id="gw-1")
    reset.refresh_from_db()
    assert reset.status == "sent"
    services.outbound_call_complete(call=reset, status="answered", response={"status": "Accepted"})
    unanswered = _sent_on(point, "c1", "gw-1")
    services.charge_point_connected(charge_point=point, connection_id="c2", gateway_id="gw-1")
    services.charge_point_disconnected(charge_point=point, connection_id="c1", gateway_id="gw-1")
    assert OutboundCall.objects.get(pk=reset.pk).status == "answered"
    assert OutboundCall.objects.get(pk=unanswered.pk).status == "offline"  # at c1's close


def test_a_reconnect_through_another_gateway_ends_the_older_connections_calls():
    # That gateway may have died without reporting the old connection's close.
    point = make_charge_point(connection_id="")
    reset = _sent_on(point, "c0", "gw-dead")
    services.charge_point_connected(charge_point=point, connection_id="c1", gateway_id="gw-2")
    reset.refresh_from_db()
    assert (reset.status, reset.error_description) == (
        "offline",
        "the charge point reconnected before answering",
    )


def test_connector_status_update_upserts_and_keeps_both_clocks():
    point = make_charge_point()
    services.connector_status_update(
        charge_point=point, connector_id=0, status="Available", error_code="NoError"
    )
    services.connector_status_update(
        charge_point=point,
        connector_id=0,
        status="Faulted",
        error_code="GroundFailure",
        info="i",
        vendor_id="v",
        vendor_error_code="e",
        timestamp=CHARGER_TIME,
    )
    assert Connector.objects.filter(charge_point=point).count() == 1
    connector = Connector.objects.get(charge_point=point)
    assert (connector.status, connector.error_code, connector.info) == (
        "Faulted",
        "GroundFailure",
        "i",
    )
    assert connector.timestamp == CHARGER_TIME
    assert connector.status_updated_at is not None and connector.status_updated_at != CHARGER_TIME


def test_clean_text_makes_anything_storable():
    assert services.clean_text("a\x00b") == "a\ufffdb"
    assert services.clean_text("\ud800x") == "?x"
    assert services.clean_json({"k\x00": ["\x00", 1]}) == {"k\ufffd": ["\ufffd", 1]}
