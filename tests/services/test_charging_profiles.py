"""Charging profiles: what our requests, the charger's answers to SetChargingProfile,
RemoteStartTransaction and ClearChargingProfile, and the transactions make of them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from charging import commands, services
from charging.models import ChargingProfile, Connector, OutboundCall
from tests.factories import CHARGER_TIME, make_charge_point, make_transaction

pytestmark = pytest.mark.django_db


def profile(purpose="TxDefaultProfile", stack_level=0, profile_id=None, **fields):
    body = {
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0, "numberPhases": 3}],
        },
        **fields,
    }
    if profile_id is not None:
        body["chargingProfileId"] = profile_id
    return body


def set_profile(connector_id=1, **fields) -> OutboundCall:
    payload = {"connectorId": connector_id, "csChargingProfiles": profile(**fields)}
    return commands.send("CP-1", "SetChargingProfile", payload)


def answer(call: OutboundCall, status="Accepted") -> OutboundCall:
    return services.outbound_call_complete(
        call=call, status="answered", response={"status": status}
    )


def row(call: OutboundCall) -> ChargingProfile:
    return ChargingProfile.objects.get(call=call)


def statuses() -> dict[int, str]:
    return dict(ChargingProfile.objects.values_list("charging_profile_id", "status"))


def test_a_profile_without_id_gets_the_charge_points_next_one_and_is_requested():
    make_charge_point("CP-1")
    make_charge_point("CP-2")
    first, second = set_profile(), set_profile(stack_level=1)
    assert first.payload["csChargingProfiles"]["chargingProfileId"] == 1
    assert second.payload["csChargingProfiles"]["chargingProfileId"] == 2
    mine = set_profile(profile_id=40)
    assert mine.payload["csChargingProfiles"]["chargingProfileId"] == 40
    assert set_profile().payload["csChargingProfiles"]["chargingProfileId"] == 41
    other = commands.send(
        "CP-2", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile()}
    )
    assert other.payload["csChargingProfiles"]["chargingProfileId"] == 1  # ids per charge point
    stored = row(first)
    assert (stored.status, stored.connector_id, stored.purpose, stored.kind) == (
        "Requested",
        1,
        "TxDefaultProfile",
        "Absolute",
    )
    assert stored.charging_rate_unit == "A"
    assert stored.schedule_periods == [{"startPeriod": 0, "limit": 6.0, "numberPhases": 3}]
    assert services.outbound_call_spec(first).on_end is not None  # Unconfirmed when unanswered


def test_accepted_installs_and_replaces_the_same_id_or_the_same_stack_level_and_purpose():
    make_charge_point("CP-1")
    answer(set_profile(profile_id=1, stack_level=0))
    answer(set_profile(profile_id=2, stack_level=1))
    answer(set_profile(connector_id=2, profile_id=3, stack_level=1))  # another connector
    assert statuses() == {1: "Installed", 2: "Installed", 3: "Installed"}
    again = answer(set_profile(profile_id=1, stack_level=5))  # same id: replaces
    same_stack = answer(set_profile(profile_id=9, stack_level=1))  # same connector/level/purpose
    rows = {p.pk: p.status for p in ChargingProfile.objects.all()}
    assert sorted(rows.values()) == ["Installed", "Installed", "Installed", "Replaced", "Replaced"]
    assert row(again).status == row(same_stack).status == "Installed"
    installed = ChargingProfile.objects.filter(status="Installed")
    assert sorted(installed.values_list("charging_profile_id", flat=True)) == [1, 3, 9]


@pytest.mark.parametrize("status", ["Rejected", "NotSupported"])
def test_a_refused_profile_is_rejected_and_replaces_nothing(status):
    make_charge_point("CP-1")
    answer(set_profile(profile_id=1))
    refused = answer(set_profile(profile_id=1), status)
    assert (row(refused).status, row(refused).answer) == ("Rejected", status)
    assert ChargingProfile.objects.filter(status="Installed").count() == 1


def test_no_answer_leaves_it_rejected_on_callerror_and_unconfirmed_on_timeout():
    make_charge_point("CP-1")
    errored, lost = set_profile(profile_id=1), set_profile(profile_id=2)
    services.outbound_call_complete(call=errored, status="call_error", error_code="NotSupported")
    services.outbound_call_complete(call=lost, status="timeout")
    assert (row(errored).status, row(errored).answer) == ("Rejected", "NotSupported")
    assert (row(lost).status, row(lost).answer) == ("Unconfirmed", "timeout")


def test_a_profile_sent_around_the_commands_is_recorded_from_its_answer():
    cp = make_charge_point("CP-1")
    payload = {"connectorId": 0, "csChargingProfiles": profile("ChargePointMaxProfile", 0, 7)}
    call = services.outbound_call_create(
        charge_point=cp, action="SetChargingProfile", payload=payload
    )
    answer(call)
    assert (row(call).status, row(call).connector_id, row(call).charging_profile_id) == (
        "Installed",
        0,
        7,
    )


def test_two_installed_profiles_with_one_id_are_refused_by_the_database():
    cp = make_charge_point("CP-1")
    fields = {"charge_point": cp, "charging_profile_id": 1, "purpose": "TxDefaultProfile"}
    fields |= {"kind": "Absolute", "charging_rate_unit": "A", "status": "Installed"}
    ChargingProfile.objects.create(connector_id=1, stack_level=0, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        ChargingProfile.objects.create(connector_id=2, stack_level=1, **fields)


def _three_installed() -> None:
    answer(set_profile(profile_id=1, stack_level=0))
    answer(set_profile(profile_id=2, stack_level=1))
    answer(set_profile(connector_id=0, profile_id=3, stack_level=1))


def clear(**payload) -> OutboundCall:
    return commands.send("CP-1", "ClearChargingProfile", payload)


def test_clear_by_id_ignores_the_criteria_and_by_criteria_matches_them_all():
    make_charge_point("CP-1")
    _three_installed()
    answer(clear(id=1, connectorId=2))  # the id names the profile (§5.5)
    assert statuses() == {1: "Cleared", 2: "Installed", 3: "Installed"}
    answer(clear(connectorId=0, stackLevel=1, chargingProfilePurpose="TxDefaultProfile"))
    assert statuses() == {1: "Cleared", 2: "Installed", 3: "Cleared"}
    cleared = ChargingProfile.objects.get(charging_profile_id=3)
    assert cleared.cleared_by.action == "ClearChargingProfile"


def test_clear_without_criteria_clears_all_and_unknown_clears_nothing():
    make_charge_point("CP-1")
    _three_installed()
    answer(clear(), "Unknown")
    assert set(statuses().values()) == {"Installed"}
    answer(clear(chargingProfilePurpose="TxProfile"))  # matches none
    assert set(statuses().values()) == {"Installed"}
    answer(clear())
    assert set(statuses().values()) == {"Cleared"}


def remote_start(id_tag="TAG-1", connector_id=1):
    payload = {"idTag": id_tag, "chargingProfile": profile("TxProfile", 0, None)}
    payload["chargingProfile"]["chargingProfileKind"] = "Relative"
    if connector_id is not None:
        payload["connectorId"] = connector_id
    return commands.send("CP-1", "RemoteStartTransaction", payload)


def start(cp, connector_id=1, id_tag="tag-1"):
    return services.transaction_start(
        charge_point=cp,
        connector_id=connector_id,
        id_tag=id_tag,
        meter_start=0,
        timestamp=CHARGER_TIME,
    )


def test_a_remote_start_profile_is_installed_bound_to_its_transaction_and_ends_with_it():
    cp = make_charge_point("CP-1")
    call = answer(remote_start())
    assert (row(call).status, row(call).purpose, row(call).transaction) == (
        "Installed",
        "TxProfile",
        None,
    )
    start(cp, id_tag="OTHER")  # another idTag's transaction does not take it
    assert row(call).transaction is None
    tx = start(cp, id_tag="tag-1")  # IdToken is case insensitive
    assert row(call).transaction == tx
    services.transaction_stop(
        charge_point=cp, transaction_id=tx.pk, meter_stop=10, timestamp=CHARGER_TIME
    )
    assert row(call).status == "Ended"


def test_a_remote_start_without_connector_learns_it_from_the_start():
    cp = make_charge_point("CP-1")
    call = answer(remote_start(connector_id=None))
    assert row(call).connector_id is None
    tx = start(cp, connector_id=2)
    assert (row(call).connector_id, row(call).transaction) == (2, tx)


def test_a_rejected_remote_start_keeps_its_profile_rejected_and_unbound():
    cp = make_charge_point("CP-1")
    call = answer(remote_start(), "Rejected")
    start(cp)
    assert (row(call).status, row(call).transaction) == ("Rejected", None)


def test_a_tx_profile_names_its_transaction_and_ends_with_it_or_its_orphan_close():
    cp = make_charge_point("CP-1")
    tx = make_transaction(cp)
    call = answer(set_profile(purpose="TxProfile", transactionId=tx.pk))
    assert (row(call).status, row(call).transaction) == ("Installed", tx)
    services.transaction_close_orphans(charge_point=cp, connector_id=1, at=timezone.now())
    assert row(call).status == "Ended"


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        (
            "SetChargingProfile",
            {"connectorId": 1, "csChargingProfiles": profile("ChargePointMaxProfile")},
        ),
        ("SetChargingProfile", {"connectorId": 0, "csChargingProfiles": profile("TxProfile")}),
        ("RemoteStartTransaction", {"idTag": "T", "chargingProfile": profile("TxDefaultProfile")}),
        (
            "RemoteStartTransaction",
            {"idTag": "T", "chargingProfile": profile("TxProfile", transactionId=3)},
        ),
    ],
    ids=["max-on-connector", "tx-on-0", "remote-start-default", "remote-start-with-tx-id"],
)
def test_profiles_against_the_purpose_rules_are_not_sent(action, payload):
    make_charge_point("CP-1")
    with pytest.raises(commands.InvalidCommand) as refused:
        commands.send("CP-1", action, payload)
    assert refused.value.code == "PropertyConstraintViolation"
    assert not OutboundCall.objects.exists() and not ChargingProfile.objects.exists()


def test_a_composite_schedule_is_stored_with_its_request():
    make_charge_point("CP-1")
    request = {"connectorId": 1, "duration": 600, "chargingRateUnit": "W"}
    call = commands.send("CP-1", "GetCompositeSchedule", request)
    schedule = {
        "status": "Accepted",
        "connectorId": 1,
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6000.0}],
        },
    }
    services.outbound_call_complete(call=call, status="answered", response=schedule)
    connector = Connector.objects.get(charge_point_id="CP-1", connector_id=1)
    assert (connector.composite_schedule, connector.composite_schedule_request) == (
        schedule,
        request,
    )
