"""Admission on the worker side: the `handshake` event (policy for unknown charge points,
authorization keys), BootNotification Pending until approved, and key rotation through
ChangeConfiguration AuthorizationKey."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher

from charging import admission, services
from charging.dispatch import handle_inbound
from charging.models import ChargePoint, ConfigurationKey, ConnectionEvent, Message, OutboundCall
from tests.factories import call, event, frame, make_charge_point, sent

pytestmark = pytest.mark.django_db

KEY = "0123456789abcdef0123"  # 20 hex digits: 10 bytes
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "One"}


def handshake(cp: str = "CP-1", *, username: str | None = None, password: str | None = None):
    reply = handle_inbound(
        event(
            "handshake",
            cp=cp,
            conn="",
            username=cp if username is None and password is not None else username,
            password=password,
            remote="10.0.0.7:51234",
        )
    )
    assert reply["send"] is None and reply["calls"] == []
    return reply["accept"], reply["status"], reply["reason"]


def with_key(cp: str = "CP-1", key: str = KEY, **fields) -> ChargePoint:
    point = make_charge_point(cp, **fields)
    return admission.authorization_key_set(charge_point=point, key=key)


# --- the handshake --------------------------------------------------------------------------


def test_unknown_charge_point_is_accepted_by_default_and_not_created_yet():
    assert handshake("NEW") == (True, 101, "")
    assert not ChargePoint.objects.filter(id="NEW").exists()


def test_unknown_charge_point_is_refused_404_under_reject(settings):
    settings.OCPP_UNKNOWN_CHARGE_POINTS = "reject"
    assert handshake("NEW", password="whatever-whatever") == (False, 404, "Unknown charge point")
    make_charge_point("KNOWN")
    assert handshake("KNOWN")[0] is True


def test_unknown_charge_point_is_refused_401_when_keys_are_required(settings):
    settings.OCPP_REQUIRE_AUTHORIZATION_KEY = True
    assert handshake("NEW", password=KEY)[:2] == (False, 401)


def test_the_right_key_is_accepted_and_a_wrong_or_missing_one_refused():
    with_key()
    assert handshake(password=KEY) == (True, 101, "")
    assert handshake(password="not-the-key-at-all") == (False, 401, "Invalid credentials")
    assert handshake() == (False, 401, "Credentials required")
    assert handshake(username="CP-2", password=KEY)[:2] == (False, 401)
    # Only the wrong key is an event for the operator (a first try without credentials is not),
    # kept per address (no port: the attempts of one address are one row, counted).
    [refused] = ConnectionEvent.objects.filter(kind="refused")
    assert (refused.remote, refused.reason, refused.close_code, refused.count) == (
        "10.0.0.7",
        "wrong authorization key",
        401,
        1,
    )


def test_failed_handshakes_back_off_per_address_and_are_counted_in_one_row(settings):
    settings.OCPP_AUTH_FAILURES = 3
    with_key()
    for _ in range(3):
        assert handshake(password="not-the-key-at-all") == (False, 401, "Invalid credentials")
    # The fourth within the window is not checked: 429, retry when the window ends.
    reply = handle_inbound(
        event("handshake", cp="CP-1", conn="", username="CP-1", password=KEY, remote="10.0.0.7:1")
    )
    assert (reply["accept"], reply["status"]) == (False, 429)
    assert 0 < reply["retry_after"] <= 60
    [refused] = ConnectionEvent.objects.filter(kind="refused")
    assert refused.count == 3
    # Another address is not slowed: the right key from there is accepted.
    other = handle_inbound(
        event("handshake", cp="CP-1", conn="", username="CP-1", password=KEY, remote="10.9.9.9:2")
    )
    assert (other["accept"], other["authenticated"]) == (True, True)


def test_a_hex_key_matches_its_digits_in_any_case_and_the_bytes_they_stand_for():
    with_key(key="4F43415F4F4354545F61646D696E5F74657374")  # the OCTT's TC_073 value
    assert handshake(password="4f43415f4f4354545f61646d696e5f74657374")[0] is True
    assert handshake(password="OCA_OCTT_admin_test")[0] is True
    raw = bytes.fromhex("0123456789abcdef0123").decode("utf-8", "surrogateescape")
    with_key("CP-2", key=KEY)
    assert handshake("CP-2", password=raw)[0] is True
    assert handshake("CP-2", password=KEY.upper())[0] is True


def test_a_text_key_matches_exactly():
    with_key(key="correct horse battery"[:16].replace(" ", "-"))
    assert handshake(password="correct-horse-ba")[0] is True
    assert handshake(password="Correct-horse-ba")[0] is False


def test_without_a_key_credentials_are_not_needed_unless_required(settings):
    make_charge_point("CP-1")
    assert handshake()[0] is True
    assert handshake(password="anything-anything")[0] is True
    settings.OCPP_REQUIRE_AUTHORIZATION_KEY = True
    assert handshake(password="anything-anything")[:2] == (False, 401)


def test_only_the_hash_is_stored():
    point = with_key()
    assert KEY not in point.authorization_key
    assert identify_hasher(point.authorization_key).algorithm  # a Django password hash
    assert admission.authorization_key_check(charge_point=point, password=KEY)


def test_keys_are_hashed_with_the_configured_iterations_and_rehashed_when_they_change(settings):
    settings.OCPP_AUTHORIZATION_KEY_ITERATIONS = 1000
    point = with_key()
    algorithm, iterations, *_ = point.authorization_key.split("$")
    assert (algorithm, iterations) == ("pbkdf2_sha256", "1000")
    settings.OCPP_AUTHORIZATION_KEY_ITERATIONS = 2000
    assert admission.authorization_key_check(charge_point=point, password=KEY)
    point.refresh_from_db()
    assert point.authorization_key.split("$")[1] == "2000"
    assert admission.authorization_key_check(charge_point=point, password=KEY)
    assert not admission.authorization_key_check(charge_point=point, password=KEY[::-1])


@pytest.mark.parametrize("key", ["short", "x" * 41, "sixteen chars ok", "tab\there-1234567"])
def test_unusable_keys_are_refused(key):
    point = make_charge_point("CP-1")
    with pytest.raises(admission.InvalidAuthorizationKey):
        admission.authorization_key_set(charge_point=point, key=key)


def test_a_redelivered_handshake_is_decided_again():
    with_key()
    envelope = event("handshake", conn="", username="CP-1", password=KEY, remote="")
    assert handle_inbound(envelope)["accept"] is True
    assert handle_inbound(envelope)["accept"] is True


def test_a_failing_handshake_check_answers_without_a_decision(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(admission, "handshake_admit", broken)
    reply = handle_inbound(event("handshake", conn="", username=None, password=None))
    assert "accept" not in reply  # the gateway refuses it 503


# --- pending until approved -----------------------------------------------------------------


def test_under_pending_a_new_charge_point_boots_pending_until_approved(settings):
    settings.OCPP_UNKNOWN_CHARGE_POINTS = "pending"
    settings.OCPP_PENDING_INTERVAL = 45
    settings.OCPP_HEARTBEAT_INTERVAL = 300
    handle_inbound(event("connect", cp="NEW", remote="", subprotocol="ocpp1.6"))
    point = ChargePoint.objects.get(id="NEW")
    assert point.approved is False
    answer = sent(handle_inbound(call("b1", "BootNotification", BOOT, cp="NEW")))
    assert (answer[2]["status"], answer[2]["interval"]) == ("Pending", 45)
    # While pending it gets no energy through us.
    refused = sent(handle_inbound(call("a1", "Authorize", {"idTag": "T"}, cp="NEW")))
    assert refused[:3] == [4, "a1", "SecurityError"]
    preparing = {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"}
    assert handle_inbound(call("s1", "StatusNotification", preparing, cp="NEW"))["calls"] == []
    assert handle_inbound(call("h1", "Heartbeat", {}, cp="NEW"))["send"].startswith("[3,")

    admission.charge_point_approve(charge_point=point)
    answer = sent(handle_inbound(call("b2", "BootNotification", BOOT, cp="NEW")))
    assert (answer[2]["status"], answer[2]["interval"]) == ("Accepted", 300)
    assert ChargePoint.objects.get(id="NEW").registration_status == "Accepted"


def test_under_reject_a_charge_point_that_got_in_unchecked_boots_rejected(settings):
    settings.OCPP_UNKNOWN_CHARGE_POINTS = "reject"
    handle_inbound(event("connect", cp="SNEAKY", remote="", subprotocol="ocpp1.6"))
    answer = sent(handle_inbound(call("b1", "BootNotification", BOOT, cp="SNEAKY")))
    assert answer[2]["status"] == "Rejected"


def test_existing_and_accept_policy_charge_points_stay_accepted():
    handle_inbound(event("connect", cp="CP-9", remote="", subprotocol=None))
    answer = sent(handle_inbound(call("b1", "BootNotification", BOOT, cp="CP-9")))
    assert answer[2]["status"] == "Accepted"


def test_a_bad_policy_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.OCPP_UNKNOWN_CHARGE_POINTS = "maybe"
    with pytest.raises(ImproperlyConfigured, match="OCPP_UNKNOWN_CHARGE_POINTS"):
        admission.unknown_charge_point_policy()


# --- rotation through ChangeConfiguration AuthorizationKey ------------------------------------


def _rotation(response: dict, new_key: str = "fedcba9876543210fedc") -> OutboundCall:
    point = ChargePoint.objects.get(id="CP-1")
    outbound = services.outbound_call_create(
        charge_point=point,
        action="ChangeConfiguration",
        payload={"key": "AuthorizationKey", "value": new_key},
    )
    services.outbound_call_start_send(call_id=outbound.pk)
    handle_inbound(frame([3, outbound.unique_id, response]))
    outbound.refresh_from_db()
    return outbound


def test_an_accepted_new_key_replaces_the_old_one_and_is_not_kept_in_clear():
    with_key()
    outbound = _rotation({"status": "Accepted"})
    assert outbound.status == "answered"
    assert handshake(password="fedcba9876543210fedc")[0] is True
    assert handshake(password=KEY)[0] is False
    assert outbound.payload == {"key": "AuthorizationKey", "value": services.REDACTED}
    frame_out = Message.objects.get(pk=outbound.message_id)
    assert "fedcba9876543210fedc" not in frame_out.raw
    assert json.loads(frame_out.raw)[3]["value"] == services.REDACTED
    assert not ConfigurationKey.objects.filter(key="AuthorizationKey").exists()


@pytest.mark.parametrize("status", ["Rejected", "RebootRequired", "NotSupported"])
def test_a_key_the_charger_did_not_take_at_once_leaves_the_old_one(status):
    with_key()
    outbound = _rotation({"status": status})
    assert handshake(password=KEY)[0] is True
    assert outbound.payload["value"] == services.REDACTED


def test_a_reported_authorization_key_is_never_stored():
    point = make_charge_point("CP-1")
    services.configuration_keys_store(
        charge_point=point,
        keys=[
            {"key": "AuthorizationKey", "readonly": False, "value": "leaked-leaked-123"},
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        ],
    )
    assert list(ConfigurationKey.objects.values_list("key", flat=True)) == ["HeartbeatInterval"]


def _pending_rotation(new_key: str = "fedcba9876543210fedc") -> OutboundCall:
    outbound = services.outbound_call_create(
        charge_point=ChargePoint.objects.get(id="CP-1"),
        action="ChangeConfiguration",
        payload={"key": "AuthorizationKey", "value": new_key},
    )
    services.outbound_call_start_send(call_id=outbound.pk)
    return outbound


def test_a_charger_back_with_the_key_being_set_is_accepted_and_the_key_stored():
    # It answered Accepted and reconnected at once (OCTT TC_073): its answer, on the old
    # connection's route, has not been processed yet.
    with_key()
    outbound = _pending_rotation()
    assert handshake(password="FEDCBA9876543210FEDC")[0] is True  # hex: any case
    assert handshake(password=KEY)[0] is False  # the new key replaced the old one
    handle_inbound(frame([3, outbound.unique_id, {"status": "Accepted"}]))
    assert handshake(password="fedcba9876543210fedc")[0] is True
    assert (
        not ConnectionEvent.objects.filter(kind="refused")
        .exclude(reason="wrong authorization key")
        .exists()
    )


def test_only_the_key_of_a_change_still_pending_is_taken():
    with_key()
    _rotation({"status": "Rejected"}, new_key="1111111111111111aaaa")
    _pending_rotation("2222222222222222bbbb")
    services.outbound_call_create(  # not handed over for sending: the charger cannot know it
        charge_point=ChargePoint.objects.get(id="CP-1"),
        action="ChangeConfiguration",
        payload={"key": "AuthorizationKey", "value": "4444444444444444dddd"},
    )
    assert handshake(password="4444444444444444dddd")[0] is False
    assert handshake(password="1111111111111111aaaa")[0] is False  # ended: redacted, refused
    assert handshake(password="3333333333333333cccc")[0] is False
    assert handshake(password=KEY)[0] is True  # nothing taken yet: the old key still works
    assert handshake(password="2222222222222222bbbb")[0] is True


NEW_KEY = "fedcba9876543210fedc"


def _expired_rotation() -> OutboundCall:
    """A rotation handed over and then given up by housekeeping: its outcome is unknown."""
    outbound = _pending_rotation(NEW_KEY)
    OutboundCall.objects.filter(pk=outbound.pk).update(
        created_at=outbound.created_at - timedelta(hours=1)
    )
    assert services.outbound_call_expire_stale() == 1
    outbound.refresh_from_db()
    assert outbound.status == "timeout" and outbound.payload["value"] == services.REDACTED
    return outbound


@pytest.mark.parametrize("first", [NEW_KEY, KEY])
def test_after_a_rotation_of_unknown_outcome_both_keys_work_until_one_is_used(first):
    with_key()
    _expired_rotation()
    other = KEY if first == NEW_KEY else NEW_KEY
    assert handshake(password=first)[0] is True
    assert handshake(password=other)[0] is False  # it authenticated with the other one
    assert handshake(password=first)[0] is True
    assert not ChargePoint.objects.get(id="CP-1").authorization_key_pending


@pytest.mark.parametrize(("status", "key"), [("Accepted", NEW_KEY), ("Rejected", KEY)])
def test_a_late_answer_to_a_rotation_given_up_decides_the_key(status, key):
    with_key()
    outbound = _expired_rotation()
    # Its answer was queued behind the housekeeping (a long worker outage).
    handle_inbound(frame([3, outbound.unique_id, {"status": status}]))
    outbound.refresh_from_db()
    assert outbound.status == "answered" and outbound.response == {"status": status}
    assert outbound.payload["value"] == services.REDACTED
    old_or_new = NEW_KEY if key == KEY else KEY
    assert handshake(password=old_or_new)[0] is False
    assert handshake(password=key)[0] is True
