"""Answers that change our state, stale calls, and `call_offline`/reconnects ending calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from charging import services
from charging.dispatch import handle_inbound
from charging.models import ChargePoint, ConfigurationKey, Connector, OutboundCall
from tests.factories import event, frame, make_charge_point

pytestmark = pytest.mark.django_db


def answered(action: str, payload: dict, response: dict, cp: str = "CP-1") -> OutboundCall:
    """A sent call of `action`, answered with `response` through dispatch like a real frame."""
    point = ChargePoint.objects.filter(id=cp).first() or make_charge_point(cp)
    call = services.outbound_call_create(charge_point=point, action=action, payload=payload)
    OutboundCall.objects.filter(pk=call.pk).update(status="sent")
    handle_inbound(frame([3, call.unique_id, response], cp=cp))
    call.refresh_from_db()
    return call


def keys(cp: str = "CP-1") -> dict:
    return {
        k.key: (k.value, k.readonly) for k in ConfigurationKey.objects.filter(charge_point_id=cp)
    }


def test_get_configuration_of_all_keys_replaces_the_stored_ones():
    make_charge_point("CP-1")
    ConfigurationKey.objects.create(charge_point_id="CP-1", key="Gone", value="x")
    call = answered(
        "GetConfiguration",
        {},
        {
            "configurationKey": [
                {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
                {"key": "NoValue", "readonly": True},
            ]
        },
    )
    assert call.status == "answered"
    assert keys() == {
        "HeartbeatInterval": ("300", False),
        "NumberOfConnectors": ("2", True),
        "NoValue": (None, True),
    }


def test_get_configuration_of_some_keys_drops_the_unknown_ones_only():
    make_charge_point("CP-1")
    ConfigurationKey.objects.create(charge_point_id="CP-1", key="Other", value="1")
    ConfigurationKey.objects.create(charge_point_id="CP-1", key="Unknown", value="1")
    answered(
        "GetConfiguration",
        {"key": ["A", "Unknown"]},
        {
            "configurationKey": [{"key": "A", "readonly": False, "value": "a"}],
            "unknownKey": ["Unknown"],
        },
    )
    assert keys() == {"A": ("a", False), "Other": ("1", False)}


@pytest.mark.parametrize(
    ("status", "stored"),
    [("Accepted", "60"), ("RebootRequired", "60"), ("Rejected", "30"), ("NotSupported", "30")],
)
def test_change_configuration_updates_the_key_when_taken(status, stored):
    make_charge_point("CP-1")
    ConfigurationKey.objects.create(
        charge_point_id="CP-1", key="MeterValueSampleInterval", value="30"
    )
    answered(
        "ChangeConfiguration",
        {"key": "MeterValueSampleInterval", "value": "60"},
        {"status": status},
    )
    assert keys()["MeterValueSampleInterval"] == (stored, False)


def test_change_availability_of_a_connector_and_of_the_whole_charge_point():
    point = make_charge_point("CP-1")
    for n in (0, 1, 2):
        Connector.objects.create(charge_point=point, connector_id=n)
    answered(
        "ChangeAvailability", {"connectorId": 2, "type": "Inoperative"}, {"status": "Scheduled"}
    )
    state = {
        c.connector_id: (c.availability, c.availability_status) for c in Connector.objects.all()
    }
    assert state == {0: ("", ""), 1: ("", ""), 2: ("Inoperative", "Scheduled")}
    answered("ChangeAvailability", {"connectorId": 0, "type": "Operative"}, {"status": "Accepted"})
    assert set(Connector.objects.values_list("availability", flat=True)) == {"Operative"}
    answered(
        "ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}, {"status": "Rejected"}
    )
    assert Connector.objects.get(connector_id=1).availability == "Operative"


def test_local_list_version_from_get_and_from_an_accepted_send():
    answered("GetLocalListVersion", {}, {"listVersion": 4})
    assert ChargePoint.objects.get(id="CP-1").local_list_version == 4
    answered("SendLocalList", {"listVersion": 5, "updateType": "Full"}, {"status": "Accepted"})
    assert ChargePoint.objects.get(id="CP-1").local_list_version == 5
    answered("SendLocalList", {"listVersion": 6, "updateType": "Full"}, {"status": "Failed"})
    point = ChargePoint.objects.get(id="CP-1")
    assert point.local_list_version == 5 and point.local_list_version_at is not None


def test_an_accepted_composite_schedule_is_stored_on_the_connector():
    schedule = {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2026-01-01T00:00:00Z",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400.0}],
        },
    }
    answered("GetCompositeSchedule", {"connectorId": 1, "duration": 3600}, schedule)
    connector = Connector.objects.get(connector_id=1)
    assert connector.composite_schedule == schedule and connector.composite_schedule_at
    answered("GetCompositeSchedule", {"connectorId": 1, "duration": 60}, {"status": "Rejected"})
    assert Connector.objects.get(connector_id=1).composite_schedule == schedule


def test_an_error_answer_changes_no_state():
    make_charge_point("CP-1")
    call = services.outbound_call_create(
        charge_point=ChargePoint.objects.get(id="CP-1"), action="GetLocalListVersion", payload={}
    )
    handle_inbound(frame([4, call.unique_id, "NotSupported", "no", {}]))
    call.refresh_from_db()
    assert call.status == "call_error" and call.error_code == "NotSupported"
    assert ChargePoint.objects.get(id="CP-1").local_list_version is None


def test_call_offline_ends_the_call_offline():
    point = make_charge_point("CP-1")
    call = services.outbound_call_create(charge_point=point, action="ClearCache", payload={})
    handle_inbound(event("call_offline", conn="", unique_id=call.unique_id))
    call.refresh_from_db()
    assert call.status == "offline" and "no longer held" in call.error_description
    handle_inbound(event("call_offline", conn="", unique_id="nope"))  # unknown: logged only


def test_a_new_connection_ends_the_calls_sent_on_older_ones():
    point = make_charge_point("CP-1", connection_id="old")
    sent = services.outbound_call_create(charge_point=point, action="ClearCache", payload={})
    queued = services.outbound_call_create(charge_point=point, action="ClearCache", payload={})
    OutboundCall.objects.filter(pk=sent.pk).update(status="sent")
    handle_inbound(event("connect", conn="new"))
    assert OutboundCall.objects.get(pk=sent.pk).status == "offline"
    assert OutboundCall.objects.get(pk=queued.pk).status == "queued"  # its task sends it on "new"


def test_expire_stale_ends_only_calls_long_past_their_timeout(settings):
    settings.OCPP_CALL_GRACE = 10
    point = make_charge_point("CP-1")
    now = timezone.now()

    def made(age: float, status: str, timeout: float = 30) -> OutboundCall:
        call = services.outbound_call_create(
            charge_point=point, action="ClearCache", payload={}, timeout=timeout
        )
        OutboundCall.objects.filter(pk=call.pk).update(
            status=status, created_at=now - timedelta(seconds=age)
        )
        return call

    stale_sent, stale_queued = made(41, "sent"), made(41, "queued")
    young, done = made(39, "sent"), made(100, "answered")
    assert services.outbound_call_expire_stale(now=now) == 2
    status = dict(OutboundCall.objects.values_list("pk", "status"))
    assert status[stale_sent.pk] == status[stale_queued.pk] == "timeout"
    assert (status[young.pk], status[done.pk]) == ("sent", "answered")


def test_the_management_command_expires_stale_calls(settings):
    from io import StringIO

    from django.core.management import call_command

    settings.OCPP_CALL_GRACE = 0
    call = services.outbound_call_create(
        charge_point=make_charge_point("CP-1"), action="ClearCache", payload={}, timeout=1
    )
    OutboundCall.objects.filter(pk=call.pk).update(created_at=timezone.now() - timedelta(seconds=5))
    out = StringIO()
    call_command("expire_stale_calls", stdout=out)
    assert "1 stale call(s) ended" in out.getvalue()
    assert OutboundCall.objects.get(pk=call.pk).status == "timeout"
