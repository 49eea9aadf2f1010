"""Lenient and strict validation in the worker: what is recorded, counted, shown and settable."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from prometheus_client.parser import text_string_to_metric_families

from charging import selectors
from charging.dispatch import handle_inbound
from charging.models import ChargePoint, Connector, Message, OutboundCall, Transaction
from tests.factories import call, frame, make_charge_point, sent

pytestmark = pytest.mark.django_db

BOOT = {"chargePointVendor": "Vendor", "chargePointModel": "Model"}
QUIRKY_BOOT = {**BOOT, "chargePointSerialNumber": "S" * 30, "vendorInfo": {"board": 3}}
QUIRKY_STATUS = {"connectorId": "1", "errorCode": "noError", "status": "preparing"}


def soft_violations(client, action: str, rule: str) -> float:
    response = client.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            if sample.name == "levity_soft_violations_total" and sample.labels == {
                "action": action,
                "rule": rule,
            }:
                return sample.value
    return 0.0


def test_lenient_accepts_records_and_counts_soft_violations(client):
    make_charge_point("CP-1")
    before = soft_violations(client, "BootNotification", "maxLength")
    text = json.dumps([2, "b1", "BootNotification", QUIRKY_BOOT])
    answer = sent(handle_inbound(frame(text)))
    assert answer[:2] == [3, "b1"] and answer[2]["status"] == "Accepted"
    inbound = Message.objects.get(direction="in", unique_id="b1")
    assert inbound.violations == [
        {"rule": "maxLength", "field": "chargePointSerialNumber"},
        {"rule": "additionalProperties", "field": "vendorInfo"},
    ]
    assert inbound.payload == QUIRKY_BOOT and inbound.raw == text  # as received
    assert ChargePoint.objects.get(id="CP-1").serial_number == "S" * 25  # the middleware's view
    assert soft_violations(client, "BootNotification", "maxLength") == before + 1
    assert (
        selectors.charge_point_soft_violation_count(charge_point=ChargePoint.objects.get(id="CP-1"))
        == 1
    )


def test_an_unreadable_timestamp_is_accepted_as_no_charger_time():
    make_charge_point("CP-1")
    start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "0000-00-00T00:00:00"}
    answer = sent(handle_inbound(call("t1", "StartTransaction", start)))
    assert answer[0] == 3 and answer[2]["idTagInfo"]["status"] == "Accepted"
    inbound = Message.objects.get(direction="in")
    assert inbound.violations == [{"rule": "format", "field": "timestamp"}]
    transaction = Transaction.objects.get()
    assert transaction.started_at is None and transaction.start_received_at is not None


def test_a_valid_frame_records_no_violations():
    make_charge_point("CP-1")
    handle_inbound(call("b1", "BootNotification", BOOT))
    inbound = Message.objects.get(direction="in")
    assert inbound.violations is None and inbound.raw == ""


def test_strict_setting_refuses_what_lenient_accepts(settings):
    settings.OCPP_VALIDATION = "strict"
    make_charge_point("CP-1")
    answer = sent(handle_inbound(call("b1", "BootNotification", QUIRKY_BOOT)))
    assert answer[:3] == [4, "b1", "FormationViolation"]
    assert Message.objects.get(direction="in").violations is None
    assert ChargePoint.objects.get(id="CP-1").serial_number == ""


def test_the_charge_points_own_mode_overrides_the_setting(settings):
    settings.OCPP_VALIDATION = "strict"
    make_charge_point("CP-1", validation="lenient")
    make_charge_point("CP-2", connection_id="conn-2")
    assert sent(handle_inbound(call("b1", "BootNotification", QUIRKY_BOOT)))[0] == 3
    settings.OCPP_VALIDATION = "lenient"
    ChargePoint.objects.filter(id="CP-2").update(validation="strict")
    refused = sent(handle_inbound(call("b2", "BootNotification", QUIRKY_BOOT, cp="CP-2")))
    assert refused[:3] == [4, "b2", "FormationViolation"]


def test_a_bad_setting_is_improperly_configured(settings):
    settings.OCPP_VALIDATION = "relaxed"
    with pytest.raises(ImproperlyConfigured, match="OCPP_VALIDATION"):
        selectors.validation_mode_default()


def _remote_start(settings) -> str:
    settings.OCPP_AUTO_REMOTE_START_DELAY = 0
    reply = handle_inbound(call("s1", "StatusNotification", QUIRKY_STATUS))
    assert sent(reply) == [3, "s1", {}]
    assert Connector.objects.get(connector_id=1).status == "Preparing"  # normalised
    [wire_call] = reply["calls"]
    assert wire_call["action"] == "RemoteStartTransaction"
    return wire_call["unique_id"]


def test_a_quirky_answer_is_normalised_in_lenient_mode(settings):
    make_charge_point("CP-1")
    unique_id = _remote_start(settings)
    handle_inbound(frame([3, unique_id, {"status": "accepted"}]))
    stored = OutboundCall.objects.get(unique_id=unique_id)
    assert (stored.status, stored.response) == ("answered", {"status": "Accepted"})
    assert Connector.objects.get(connector_id=1).remote_start_status == "Accepted"
    answer = Message.objects.get(direction="in", message_type=3)
    assert answer.violations == [{"rule": "enum", "field": "status"}]
    assert answer.payload == {"status": "accepted"}


def test_a_quirky_answer_is_a_call_error_in_strict_mode(settings):
    make_charge_point("CP-1")
    ChargePoint.objects.filter(id="CP-1").update(validation="strict")
    settings.OCPP_VALIDATION = "lenient"
    # Strict: the quirky StatusNotification itself is refused, so start from a valid one.
    reply = handle_inbound(
        call(
            "s1",
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"},
        )
    )
    [wire_call] = reply["calls"]
    handle_inbound(frame([3, wire_call["unique_id"], {"status": "accepted"}]))
    stored = OutboundCall.objects.get(unique_id=wire_call["unique_id"])
    assert (stored.status, stored.error_code) == ("call_error", "PropertyConstraintViolation")


# --- admin and API ---------------------------------------------------------------------------


def test_admin_shows_the_count_filters_messages_and_sets_the_mode(admin_client):
    make_charge_point("CP-1")
    handle_inbound(call("b1", "BootNotification", QUIRKY_BOOT))
    handle_inbound(call("h1", "Heartbeat", {}))
    page = admin_client.get("/admin/charging/chargepoint/CP-1/change/").content.decode()
    assert "Frames with soft violations" in page
    assert "soft_violations=yes" in page and ">1</a>" in page
    assert "lenient (OCPP_VALIDATION)" in page
    listing = admin_client.get(
        "/admin/charging/message/", {"soft_violations": "yes", "direction__exact": "in"}
    )
    assert [m.unique_id for m in listing.context["cl"].result_list] == ["b1"]
    detail = admin_client.get(
        f"/admin/charging/message/{Message.objects.get(unique_id='b1', direction='in').pk}/change/"
    )
    assert "maxLength" in detail.content.decode()  # its violations, shown
    admin_client.post(
        "/admin/charging/chargepoint/",
        {"action": "validation_strict", "_selected_action": ["CP-1"], "index": 0},
        follow=True,
    )
    assert ChargePoint.objects.get(id="CP-1").validation == "strict"
    admin_client.post(
        "/admin/charging/chargepoint/",
        {"action": "validation_default", "_selected_action": ["CP-1"], "index": 0},
        follow=True,
    )
    assert ChargePoint.objects.get(id="CP-1").validation == ""


def test_api_sets_and_shows_the_mode(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    make_charge_point("CP-1")
    url = "/api/v1/charge-points/CP-1/validation/"
    body = api.post(url, {"mode": "strict"}, format="json").json()
    assert (body["validation"], body["validation_mode"]) == ("strict", "strict")
    assert ChargePoint.objects.get(id="CP-1").validation == "strict"
    body = api.post(url, {"mode": None}, format="json").json()
    assert (body["validation"], body["validation_mode"]) == (None, "lenient")
    assert api.post(url, {"mode": "relaxed"}, format="json").status_code == 400
    assert (
        api.post(
            "/api/v1/charge-points/NOPE/validation/", {"mode": None}, format="json"
        ).status_code
        == 404
    )
    assert api.get("/api/v1/charge-points/CP-1/").json()["validation_mode"] == "lenient"


@pytest.fixture
def user(db):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    operator = get_user_model().objects.create_user("operator", password="secret")
    # The API asks what the admin asks (charging/api/permissions.py).
    operator.user_permissions.set(Permission.objects.filter(codename="change_chargepoint"))
    return operator
