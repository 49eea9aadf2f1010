"""Admission in the admin: registering a charge point, approving it, setting its key."""

from __future__ import annotations

import pytest
from django.urls import reverse

from charging import admission, commands
from charging.models import ChargePoint
from tests.factories import make_charge_point

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:charging_chargepoint_changelist")
KEY = "a-key-of-20-chars-ok"


def act(client, action: str, *ids: str, **data):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": list(ids), **data}, follow=True
    )


def texts(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_a_charge_point_can_be_registered_with_a_key(admin_client):
    response = admin_client.post(
        reverse("admin:charging_chargepoint_add"),
        {"id": "CP-NEW", "new_authorization_key": KEY},
    )
    assert response.status_code == 302
    point = ChargePoint.objects.get(id="CP-NEW")
    assert point.approved is True
    assert admission.authorization_key_check(charge_point=point, password=KEY)


@pytest.mark.parametrize("cp_id", ["a b", "a/b", "x" * 49])
def test_an_id_no_charger_could_connect_with_is_refused_by_the_form(admin_client, cp_id):
    response = admin_client.post(reverse("admin:charging_chargepoint_add"), {"id": cp_id})
    assert response.status_code == 200  # the form again, with the rule's words
    assert response.context["adminform"].form.errors["id"]
    assert not ChargePoint.objects.exists()


def test_approve_and_withdraw(admin_client, monkeypatch):
    make_charge_point("CP-1", approved=False, registration_status="Pending")
    triggered = []
    monkeypatch.setattr(
        commands, "send", lambda cp, action, payload, **kw: triggered.append((cp, action, payload))
    )
    response = act(admin_client, "approve", "CP-1")
    assert ChargePoint.objects.get(id="CP-1").approved is True
    # Connected and Pending: asked to boot again at once.
    assert triggered == [("CP-1", "TriggerMessage", {"requestedMessage": "BootNotification"})]
    assert "CP-1: approved" in texts(response)[0]
    act(admin_client, "withdraw_approval", "CP-1")
    assert ChargePoint.objects.get(id="CP-1").approved is False


def test_set_key_asks_for_it_then_stores_it(admin_client):
    make_charge_point("CP-1")
    form = act(admin_client, "set_authorization_key", "CP-1")
    assert b"authorization key" in form.content
    response = act(admin_client, "set_authorization_key", "CP-1", apply="yes", key=KEY)
    point = ChargePoint.objects.get(id="CP-1")
    assert admission.authorization_key_check(charge_point=point, password=KEY)
    assert texts(response) == ["CP-1: authorization key set"]


def test_set_key_with_rotation_reports_a_refusal(admin_client, monkeypatch):
    make_charge_point("CP-1")

    def change(cp, **kwargs):
        raise commands.KeyNotChanged(
            "CP-1 answered AuthorizationKey with Rejected", status="Rejected"
        )

    monkeypatch.setattr(commands.security, "change_authorization_key", change)
    response = act(admin_client, "set_authorization_key", "CP-1", apply="yes", key=KEY, rotate="on")
    assert "not changed" in texts(response)[0]
    assert ChargePoint.objects.get(id="CP-1").authorization_key == ""


def test_a_generated_key_is_shown_once(admin_client):
    make_charge_point("CP-1")
    response = act(admin_client, "set_authorization_key", "CP-1", apply="yes")
    [text] = texts(response)
    key = text.split(": ")[-1].split(" ")[0]
    assert len(key) == 40
    point = ChargePoint.objects.get(id="CP-1")
    assert admission.authorization_key_check(charge_point=point, password=key)
    act(admin_client, "remove_authorization_key", "CP-1")
    assert ChargePoint.objects.get(id="CP-1").authorization_key == ""


def test_the_change_page_shows_admission(admin_client):
    point = make_charge_point("CP-1")
    admission.authorization_key_set(charge_point=point, key=KEY)
    page = admin_client.get(reverse("admin:charging_chargepoint_change", args=["CP-1"]))
    assert page.status_code == 200
    assert b"Admission" in page.content
    assert point.authorization_key.encode() not in page.content
