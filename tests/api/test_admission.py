"""The API's admission endpoints: a charge point's authorization key and its approval."""

from __future__ import annotations

import pytest

from charging import admission, commands
from charging.models import ChargePoint
from tests.api.conftest import command_error
from tests.factories import make_charge_point

pytestmark = pytest.mark.django_db

KEY = "a-key-of-20-chars-ok"


def url(cp: str = "CP-1", what: str = "authorization-key") -> str:
    return f"/api/v1/charge-points/{cp}/{what}/"


def test_anonymous_requests_are_refused(client):
    make_charge_point("CP-1")
    assert client.post(url(), {"key": KEY}, content_type="application/json").status_code in (
        401,
        403,
    )
    assert client.post(url(what="approval")).status_code in (401, 403)


def test_setting_a_key_stores_its_hash_only(api):
    make_charge_point("CP-1")
    response = api.post(url(), {"key": KEY}, format="json")
    assert response.status_code == 200
    assert response.json() == {"charge_point": "CP-1", "has_authorization_key": True}
    point = ChargePoint.objects.get(id="CP-1")
    assert KEY not in point.authorization_key
    assert admission.authorization_key_check(charge_point=point, password=KEY)
    detail = api.get("/api/v1/charge-points/CP-1/").json()
    assert detail["has_authorization_key"] is True and "authorization_key" not in detail


def test_a_generated_key_is_returned_once(api):
    make_charge_point("CP-1")
    body = api.post(url(), {}, format="json").json()
    assert len(body["key"]) == 40 and int(body["key"], 16) >= 0
    point = ChargePoint.objects.get(id="CP-1")
    assert admission.authorization_key_check(charge_point=point, password=body["key"])


def test_an_unknown_charge_point_is_registered_approved(api, settings):
    settings.OCPP_UNKNOWN_CHARGE_POINTS = "reject"
    response = api.post(url("CP-NEW"), {"key": KEY}, format="json")
    assert response.status_code == 201
    point = ChargePoint.objects.get(id="CP-NEW")
    assert point.approved is True and point.authorization_key


@pytest.mark.parametrize("key", ["short", "x" * 41, "has spaces in it!!", 1234567890123456789])
def test_an_unusable_key_is_400(api, key):
    make_charge_point("CP-1")
    response = api.post(url(), {"key": key}, format="json")
    assert response.status_code == 400
    assert "key" in response.json()


def test_rotate_stores_the_key_only_when_the_charger_accepts(api, monkeypatch):
    make_charge_point("CP-1")
    sent = []

    def change(cp, *, key, wait, requested_by):
        sent.append((cp, key, requested_by))
        return key

    monkeypatch.setattr(commands.security, "change_authorization_key", change)
    response = api.post(url(), {"key": KEY, "rotate": True}, format="json")
    assert response.status_code == 200
    assert sent == [("CP-1", KEY, "operator")]
    # Storing is the worker's job when the answer comes (services); the view does not.
    assert ChargePoint.objects.get(id="CP-1").authorization_key == ""


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (command_error(commands.KeyNotChanged, "no", status="Rejected"), 409, "KeyNotChanged"),
        (command_error(commands.ChargePointOffline, "offline"), 409, "Offline"),
        (command_error(commands.CallTimeout, "late"), 504, "Timeout"),
        (
            command_error(
                commands.CallError, "x", code="NotSupported", description="d", details=None
            ),
            502,
            "NotSupported",
        ),
    ],
)
def test_rotate_failures(api, monkeypatch, error, status, code):
    make_charge_point("CP-1")

    def change(*args, **kwargs):
        raise error

    monkeypatch.setattr(commands.security, "change_authorization_key", change)
    response = api.post(url(), {"key": KEY, "rotate": True}, format="json")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_rotate_an_unknown_charge_point_is_404(api):
    assert api.post(url("NOPE"), {"rotate": True}, format="json").status_code == 404


def test_delete_removes_the_key(api):
    point = make_charge_point("CP-1")
    admission.authorization_key_set(charge_point=point, key=KEY)
    assert api.delete(url()).status_code == 204
    assert ChargePoint.objects.get(id="CP-1").authorization_key == ""
    assert api.delete(url("NOPE")).status_code == 404


def test_approval(api):
    make_charge_point("CP-1", approved=False)
    response = api.post(url(what="approval"), {}, format="json")
    assert response.status_code == 200 and response.json()["approved"] is True
    response = api.post(url(what="approval"), {"approved": False}, format="json")
    assert response.json()["approved"] is False
    assert ChargePoint.objects.get(id="CP-1").approved is False
    assert api.post(url("NOPE", "approval"), {}, format="json").status_code == 404


@pytest.mark.parametrize("cp_id", ["a%20b", "a%09b", "x" * 49])
def test_an_id_no_charger_could_connect_with_is_not_registered(api, cp_id):
    response = api.post(url(cp_id), {"key": KEY}, format="json")
    assert response.status_code == 404
    assert "Charge point id must" in response.json()["detail"]
    assert not ChargePoint.objects.exists()
