"""Admin of smart charging: the set / clear / composite schedule actions build the spec's
payloads, profiles are listed read-only, composite schedules are charts."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from charging import services
from charging.models import ChargingProfile, Connector
from levity.devstack import DEFAULT_ANSWERS
from tests.factories import make_charge_point
from tests.test_admin_actions import charger, run, texts  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

PROFILES = reverse("admin:charging_chargingprofile_changelist")


def test_set_charging_profile_sends_the_profile_of_the_form(admin_client, charger):  # noqa: F811
    make_charge_point("CP-1")
    fields = {
        "connector_id": 1,
        "charging_profile_id": "",
        "stack_level": 2,
        "purpose": "TxDefaultProfile",
        "transaction_id": "",
        "kind": "Absolute",
        "recurrency_kind": "",
        "charging_rate_unit": "A",
        "periods": "0 16 3\n1800, 8",
        "duration": 3600,
        "valid_to": "",
    }
    run(admin_client, "set_charging_profile", "CP-1", apply="yes", **fields)
    ((sent),) = charger.calls
    assert sent["action"] == "SetChargingProfile" and sent["payload"]["connectorId"] == 1
    profile = sent["payload"]["csChargingProfiles"]
    schedule = profile.pop("chargingSchedule")
    assert profile == {
        "stackLevel": 2,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
    }
    assert schedule.pop("startSchedule").endswith("Z")  # Absolute: from now
    assert schedule == {
        "duration": 3600,
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 16.0, "numberPhases": 3},
            {"startPeriod": 1800, "limit": 8.0},
        ],
    }


def test_periods_not_starting_at_zero_are_refused(admin_client, charger):  # noqa: F811
    make_charge_point("CP-1")
    response = run(
        admin_client,
        "set_charging_profile",
        "CP-1",
        apply="yes",
        connector_id=0,
        stack_level=0,
        purpose="ChargePointMaxProfile",
        kind="Relative",
        charging_rate_unit="W",
        periods="60 11000",
    )
    assert charger.calls == [] and set(response.context["form"].errors) == {"periods"}


@pytest.mark.parametrize(
    ("action", "fields", "ocpp_action", "payload"),
    [
        ("clear_charging_profile", {}, "ClearChargingProfile", {}),
        ("clear_charging_profile", {"id": 4}, "ClearChargingProfile", {"id": 4}),
        (
            "clear_charging_profile",
            {"connector_id": 1, "purpose": "TxDefaultProfile", "stack_level": 1},
            "ClearChargingProfile",
            {"connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1},
        ),
        (
            "get_composite_schedule",
            {"connector_id": 1, "duration": 600, "charging_rate_unit": "W"},
            "GetCompositeSchedule",
            {"connectorId": 1, "duration": 600, "chargingRateUnit": "W"},
        ),
    ],
)
def test_clear_and_composite_schedule_actions(
    admin_client,
    charger,  # noqa: F811
    action,
    fields,
    ocpp_action,
    payload,
):
    make_charge_point("CP-1")
    run(admin_client, action, "CP-1", apply="yes", **fields)
    assert [(c["action"], c["payload"]) for c in charger.calls] == [(ocpp_action, payload)]


def _profile(cp, profile_id, status, **fields):
    return ChargingProfile.objects.create(
        charge_point=cp,
        connector_id=1,
        charging_profile_id=profile_id,
        stack_level=profile_id,
        purpose=fields.pop("purpose", "TxDefaultProfile"),
        kind="Absolute",
        charging_rate_unit="A",
        schedule_periods=[{"startPeriod": 0, "limit": 6.0 + profile_id}],
        status=status,
        **fields,
    )


def test_profiles_are_listed_filtered_and_only_held_ones_cleared(admin_client, charger):  # noqa: F811
    cp = make_charge_point("CP-1")
    held = _profile(cp, 1, "Installed")
    gone = _profile(cp, 2, "Cleared", purpose="ChargePointMaxProfile")
    html = admin_client.get(PROFILES).content.decode()
    assert "0 s: 7.0 A" in html and "0 s: 8.0 A" in html
    only = admin_client.get(PROFILES + "?status__exact=Installed").context["cl"].result_list
    assert list(only) == [held]
    by_purpose = admin_client.get(PROFILES + "?purpose__exact=ChargePointMaxProfile")
    assert list(by_purpose.context["cl"].result_list) == [gone]
    page = admin_client.get(reverse("admin:charging_chargingprofile_change", args=[held.pk]))
    assert 'class="series-limit"' in page.content.decode()
    done = run(admin_client, "clear_on_charger", held.pk, gone.pk, url=PROFILES)
    assert [(c["action"], c["payload"]) for c in charger.calls] == [
        ("ClearChargingProfile", {"id": 1})
    ]
    assert any("not held" in text for text in texts(done))


def test_the_charge_point_page_shows_held_profiles_and_composite_schedules(admin_client):
    cp = make_charge_point("CP-1")
    _profile(cp, 1, "Installed")
    _profile(cp, 2, "Replaced")
    schedule = DEFAULT_ANSWERS["GetCompositeSchedule"]
    services.connector_composite_schedule_set(
        charge_point=cp,
        connector_id=1,
        schedule=schedule,
        request={"connectorId": 1, "duration": 900, "chargingRateUnit": "A"},
        at=timezone.now(),
    )
    page = admin_client.get(reverse("admin:charging_chargepoint_change", args=["CP-1"]))
    html = page.content.decode()
    assert "0 s: 7.0 A" in html and "0 s: 8.0 A" not in html  # the replaced one is history
    assert "asked for 900 s in A" in html and 'class="series-limit"' in html
    assert ">15 min<" in html  # the chart spans the requested duration
    connector = Connector.objects.get(charge_point=cp, connector_id=1)
    detail = admin_client.get(reverse("admin:charging_connector_change", args=[connector.pk]))
    assert 'class="series-limit"' in detail.content.decode()
