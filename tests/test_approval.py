"""Approving a charge point: one behaviour (admission.charge_point_approve) from the admin's
action and from the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from charging.models import ChargePoint, OutboundCall
from tests.factories import make_charge_point

pytestmark = pytest.mark.django_db

Approve = Callable[[str, bool], None]


def _admin(admin_client) -> Approve:
    def approve(cp: str, approved: bool) -> None:
        action = "approve" if approved else "withdraw_approval"
        response = admin_client.post(
            reverse("admin:charging_chargepoint_changelist"),
            {"action": action, "_selected_action": [cp]},
        )
        assert response.status_code == 302

    return approve


def _api(admin_user) -> Approve:
    client = APIClient()
    client.force_authenticate(user=admin_user)

    def approve(cp: str, approved: bool) -> None:
        url = f"/api/v1/charge-points/{cp}/approval/"
        response = client.post(url, {"approved": approved}, format="json")
        assert response.status_code == 200 and response.json()["approved"] is approved

    return approve


@pytest.fixture(params=["admin", "api"])
def approve(request, admin_client, admin_user) -> Approve:
    return _admin(admin_client) if request.param == "admin" else _api(admin_user)


def triggers() -> list[tuple[str, dict, str, str]]:
    return [
        (call.charge_point_id, call.payload, call.status, call.requested_by)
        for call in OutboundCall.objects.filter(action="TriggerMessage")
    ]


def test_a_connected_pending_charger_is_asked_to_boot_again(approve):
    make_charge_point("CP-1", approved=False, registration_status="Pending")
    approve("CP-1", True)
    assert ChargePoint.objects.get(id="CP-1").approved is True
    assert triggers() == [("CP-1", {"requestedMessage": "BootNotification"}, "queued", "admin")]


def test_a_charger_that_is_offline_or_already_accepted_is_not_asked(approve):
    make_charge_point("OFF", approved=False, registration_status="Pending", connected=False)
    make_charge_point("ON", approved=False, registration_status="Accepted")
    approve("OFF", True)
    approve("ON", True)
    assert ChargePoint.objects.filter(approved=True).count() == 2
    assert triggers() == [] and not OutboundCall.objects.exists()


def test_withdrawing_approval_sends_nothing(approve):
    make_charge_point("CP-1", approved=True, registration_status="Pending")
    approve("CP-1", False)
    assert ChargePoint.objects.get(id="CP-1").approved is False
    assert not OutboundCall.objects.exists()
