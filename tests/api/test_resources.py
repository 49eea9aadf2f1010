"""Charge points, transactions, id tags, recorded calls and reservations over the API."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from charging import services
from charging.models import (
    ChargerJob,
    ChargingProfile,
    Connector,
    IdTag,
    MeterValue,
    OutboundCall,
    Reservation,
)
from tests.factories import make_charge_point, make_id_tag, make_transaction

pytestmark = pytest.mark.django_db


def register(transaction, wh, *, minutes=0, unit="Wh", phase=""):
    return MeterValue.objects.create(
        charge_point=transaction.charge_point,
        transaction=transaction,
        connector_id=transaction.connector_id,
        timestamp=transaction.started_at + timedelta(minutes=minutes),
        value=str(wh),
        numeric_value=Decimal(wh),
        context="Sample.Periodic",
        format="Raw",
        measurand="Energy.Active.Import.Register",
        phase=phase,
        location="Outlet",
        unit=unit,
    )


# --- charge points ---


def test_charge_point_list_and_detail(api):
    now = timezone.now()
    point = make_charge_point(
        "CP-1",
        vendor="United Chargers",
        model="Grizzl-E",
        firmware_version="05.8",
        last_boot_at=now,
        last_heartbeat_at=now,
    )
    Connector.objects.create(charge_point=point, connector_id=1, status="Available")
    make_charge_point("CP-2", connected=False)

    listing = api.get("/api/v1/charge-points/").json()
    assert listing["count"] == 2
    assert [row["id"] for row in listing["results"]] == ["CP-1", "CP-2"]

    detail = api.get("/api/v1/charge-points/CP-1/").json()
    assert detail["vendor"] == "United Chargers"
    assert detail["model"] == "Grizzl-E"
    assert detail["firmware_version"] == "05.8"
    assert detail["connected"] is True
    assert detail["last_boot_at"] is not None and detail["last_heartbeat_at"] is not None
    assert detail["connectors"] == [
        {
            "connector_id": 1,
            "status": "Available",
            "error_code": "",
            "info": "",
            "vendor_id": "",
            "vendor_error_code": "",
            "timestamp": None,
            "status_updated_at": None,
            "composite_schedule": None,
            "composite_schedule_request": None,
            "composite_schedule_at": None,
        }
    ]
    assert "reply_to" not in detail  # the gateway's routing stays internal


def test_a_connectors_composite_schedule_is_shown_with_its_request(api):
    point = make_charge_point("CP-1")
    schedule = {
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7400}],
    }
    Connector.objects.create(
        charge_point=point,
        connector_id=1,
        composite_schedule=schedule,
        composite_schedule_request={"connectorId": 1, "duration": 3600},
        composite_schedule_at=timezone.now(),
    )
    (connector,) = api.get("/api/v1/charge-points/CP-1/").json()["connectors"]
    assert connector["composite_schedule"] == schedule
    assert connector["composite_schedule_request"] == {"connectorId": 1, "duration": 3600}
    assert connector["composite_schedule_at"] is not None


def test_charge_point_ids_with_dots_resolve(api):
    make_charge_point("site.a-01")
    assert api.get("/api/v1/charge-points/site.a-01/").json()["id"] == "site.a-01"


def test_unknown_charge_point_is_404(api):
    assert api.get("/api/v1/charge-points/NOPE/").status_code == 404


def test_charge_points_are_read_only(api):
    make_charge_point("CP-1")
    assert api.post("/api/v1/charge-points/", {"id": "X"}, format="json").status_code == 405
    assert api.delete("/api/v1/charge-points/CP-1/").status_code == 405


# --- transactions ---


def test_transactions_filter_by_charge_point_and_active(api):
    one, two = make_charge_point("CP-1"), make_charge_point("CP-2")
    open_one = make_transaction(one)
    stopped_one = make_transaction(
        one, meter_stop=4000, stop_received_at=timezone.now(), stop_reason="Local"
    )
    open_two = make_transaction(two)

    def ids(query):
        response = api.get(f"/api/v1/transactions/{query}")
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids("") == [open_two.id, stopped_one.id, open_one.id]
    assert ids("?charge_point=CP-1") == [stopped_one.id, open_one.id]
    assert ids("?charge_point=CP-1&active=true") == [open_one.id]
    assert ids("?charge_point=CP-1&active=false") == [stopped_one.id]
    assert ids("?active=true") == [open_two.id, open_one.id]


def test_transactions_active_must_be_a_boolean(api):
    response = api.get("/api/v1/transactions/?active=maybe")
    assert response.status_code == 400
    assert "active" in response.json()


def test_stopped_transaction_energy_is_meter_stop_minus_meter_start(api):
    point = make_charge_point()
    transaction = make_transaction(
        point, meter_start=1000, meter_stop=8500, stop_received_at=timezone.now()
    )
    register(transaction, 9999)  # ignored: meter_stop is the final word
    body = api.get(f"/api/v1/transactions/{transaction.id}/").json()
    assert body["energy_wh"] == 7500
    assert body["active"] is False


def test_open_transaction_energy_comes_from_the_latest_register(api):
    point = make_charge_point()
    transaction = make_transaction(point, meter_start=1000)
    register(transaction, 1500, minutes=1)
    register(transaction, "2.75", minutes=2, unit="kWh")
    body = api.get(f"/api/v1/transactions/{transaction.id}/").json()
    assert body["active"] is True
    assert body["energy_wh"] == 1750
    assert [(mv["value"], mv["unit"]) for mv in body["meter_values"]] == [
        ("1500", "Wh"),
        ("2.75", "kWh"),
    ]
    # The list has the energy too, but not the samples.
    row = api.get("/api/v1/transactions/").json()["results"][0]
    assert row["energy_wh"] == 1750 and "meter_values" not in row


def test_open_transaction_without_readings_has_no_energy(api):
    transaction = make_transaction(make_charge_point())
    assert api.get(f"/api/v1/transactions/{transaction.id}/").json()["energy_wh"] is None


# --- id tags ---


def test_id_tag_crud(api):
    created = api.post(
        "/api/v1/id-tags/", {"id_tag": "CARD-1", "status": "Accepted"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["id_tag"] == "CARD-1"

    child = api.post("/api/v1/id-tags/", {"id_tag": "CARD-2", "parent": "CARD-1"}, format="json")
    assert child.status_code == 201, child.content
    assert IdTag.objects.get(id_tag="CARD-2").parent.id_tag == "CARD-1"

    listing = api.get("/api/v1/id-tags/").json()
    assert [row["id_tag"] for row in listing["results"]] == ["CARD-1", "CARD-2"]

    patched = api.patch(
        "/api/v1/id-tags/card-1/",  # idTags are case insensitive
        {"status": "Blocked", "expiry_date": "2030-01-01T00:00:00Z"},
        format="json",
    )
    assert patched.status_code == 200, patched.content
    tag = IdTag.objects.get(id_tag="CARD-1")
    assert tag.status == "Blocked" and tag.expiry_date.year == 2030

    assert api.get("/api/v1/id-tags/CARD-1/").json()["status"] == "Blocked"
    assert api.delete("/api/v1/id-tags/CARD-1/").status_code == 204
    assert not IdTag.objects.filter(id_tag="CARD-1").exists()
    assert api.get("/api/v1/id-tags/CARD-1/").status_code == 404


def test_id_tag_duplicate_in_other_case_is_409_not_500(api):
    make_id_tag("CARD-1")
    response = api.post("/api/v1/id-tags/", {"id_tag": "card-1"}, format="json")
    assert response.status_code == 409
    assert "exists" in response.json()["detail"]


def test_id_tag_validation(api):
    too_long = api.post("/api/v1/id-tags/", {"id_tag": "X" * 21}, format="json")
    assert too_long.status_code == 400
    bad_status = api.post("/api/v1/id-tags/", {"id_tag": "A", "status": "Maybe"}, format="json")
    assert bad_status.status_code == 400
    unknown_parent = api.post("/api/v1/id-tags/", {"id_tag": "A", "parent": "NOPE"}, format="json")
    assert unknown_parent.status_code == 409  # well-formed; no such tag stored
    make_id_tag("SELF")
    own_parent = api.patch("/api/v1/id-tags/SELF/", {"parent": "SELF"}, format="json")
    assert own_parent.status_code == 409
    blank_parent = api.patch("/api/v1/id-tags/SELF/", {"parent": ""}, format="json")
    assert blank_parent.status_code == 400
    assert IdTag.objects.count() == 1


def test_an_id_tag_is_stored_as_given(api):
    # A charger sends the idTag as it is; a trimmed copy would never match it.
    response = api.post("/api/v1/id-tags/", {"id_tag": " CARD\u000b"}, format="json")
    assert response.status_code == 201
    assert IdTag.objects.get().id_tag == " CARD\u000b"


def test_id_tags_cannot_be_replaced_with_put(api):
    make_id_tag("CARD-1")
    assert api.put("/api/v1/id-tags/CARD-1/", {"id_tag": "X"}, format="json").status_code == 405


# --- recorded calls ---


def make_call(point, action="Reset", status="queued", **fields):
    return OutboundCall.objects.create(
        charge_point=point, unique_id=str(uuid.uuid4()), action=action, status=status, **fields
    )


def test_calls_list_filters_and_detail(api):
    one, two = make_charge_point("CP-1"), make_charge_point("CP-2")
    reset = make_call(one, "Reset", "answered", response={"status": "Accepted"})
    clear = make_call(one, "ClearCache", "timeout")
    other = make_call(two, "Reset", "queued")

    def ids(query):
        response = api.get(f"/api/v1/calls/{query}")
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids("") == [other.id, clear.id, reset.id]
    assert ids("?charge_point=CP-1") == [clear.id, reset.id]
    assert ids("?status=answered") == [reset.id]
    assert ids("?charge_point=CP-2&status=queued") == [other.id]
    assert ids("?action=Reset") == [other.id, reset.id]
    assert ids(f"?unique_id={clear.unique_id}") == [clear.id]

    detail = api.get(f"/api/v1/calls/{reset.id}/").json()
    assert detail["unique_id"] == reset.unique_id
    assert detail["charge_point"] == "CP-1"
    assert detail["response"] == {"status": "Accepted"}
    assert api.get("/api/v1/calls/999999/").status_code == 404


# --- reservations ---


def test_reservations_list_filters_and_detail(api):
    one, two = make_charge_point("CP-1"), make_charge_point("CP-2")
    expiry = timezone.now() + timedelta(hours=1)
    used = Reservation.objects.create(
        charge_point=one, connector_id=1, id_tag="A", expiry_date=expiry, status="Used"
    )
    active = Reservation.objects.create(
        charge_point=one, connector_id=0, id_tag="B", expiry_date=expiry, status="Accepted"
    )
    other = Reservation.objects.create(
        charge_point=two, connector_id=1, id_tag="C", expiry_date=expiry
    )

    def ids(query):
        response = api.get(f"/api/v1/reservations/{query}")
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids("") == [other.id, active.id, used.id]
    assert ids("?charge_point=CP-1") == [active.id, used.id]
    assert ids("?status=Accepted") == [active.id]
    detail = api.get(f"/api/v1/reservations/{active.id}/").json()
    assert (detail["charge_point"], detail["connector_id"], detail["status"]) == (
        "CP-1",
        0,
        "Accepted",
    )
    assert detail["transaction"] is None


# --- jobs ---


def test_jobs_list_filters(api):
    one, two = make_charge_point("CP-1"), make_charge_point("CP-2")
    firmware = services.job_create(
        charge_point=one, action="UpdateFirmware", payload={"location": "https://x/fw"}
    )
    diagnostics = services.job_create(
        charge_point=two, action="GetDiagnostics", payload={"location": "ftp://x/"}
    )
    ChargerJob.objects.filter(pk=diagnostics.pk).update(finished=True, status="Uploaded")

    def ids(query):
        response = api.get(f"/api/v1/jobs/{query}")
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids("") == [diagnostics.id, firmware.id]
    assert ids("?kind=firmware") == [firmware.id]
    assert ids("?finished=true") == [diagnostics.id]
    assert ids("?charge_point=CP-1&finished=false") == [firmware.id]
    detail = api.get(f"/api/v1/jobs/{firmware.id}/").json()
    assert [step["status"] for step in detail["history"]] == ["Requested"]


# --- charging profiles ---


def test_charging_profiles_of_a_charge_point_list_and_filter(api):
    one, two = make_charge_point("CP-1"), make_charge_point("CP-2")

    def make(cp, profile_id, status, connector_id=1, purpose="TxDefaultProfile"):
        return ChargingProfile.objects.create(
            charge_point=cp,
            connector_id=connector_id,
            charging_profile_id=profile_id,
            stack_level=0,
            purpose=purpose,
            kind="Absolute",
            charging_rate_unit="A",
            schedule_periods=[{"startPeriod": 0, "limit": 6.0}],
            status=status,
        )

    old = make(one, 1, "Replaced")
    held = make(one, 2, "Installed", connector_id=0, purpose="ChargePointMaxProfile")
    make(two, 1, "Installed")

    def ids(query=""):
        response = api.get(f"/api/v1/charge-points/CP-1/charging-profiles/{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [held.id, old.id]
    assert ids("?status=Installed") == ids("?connector_id=0") == [held.id]
    assert ids("?purpose=TxDefaultProfile") == [old.id]
    (row,) = api.get("/api/v1/charge-points/CP-1/charging-profiles/?status=Installed").json()[
        "results"
    ]
    assert (row["charge_point"], row["charging_profile_id"], row["purpose"]) == (
        "CP-1",
        2,
        "ChargePointMaxProfile",
    )
    assert row["schedule_periods"] == [{"startPeriod": 0, "limit": 6.0}]
    assert api.get("/api/v1/charge-points/NOPE/charging-profiles/").status_code == 404
    assert (
        api.get("/api/v1/charge-points/CP-1/charging-profiles/?connector_id=x").status_code == 400
    )


def test_nul_in_the_query_or_path_is_400_not_500(api):
    # PostgreSQL cannot store or even compare a NUL character (found by schemathesis).
    assert api.get("/api/v1/calls/?action=%00").status_code == 400
    assert api.get("/api/v1/charge-points/CP%00/").status_code == 400
    response = api.post("/api/v1/charge-points/CP%00/calls/Reset/", {"type": "Soft"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "FormationViolation"
