"""charging.protocol.validation: payloads checked against the 1.6 schemas, with 1.6 error codes."""

from __future__ import annotations

import pytest

from charging.protocol import MessageType, OCPPError
from charging.protocol.validation import validate_payload

START = {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}


def _code(message_type, action, payload):
    with pytest.raises(OCPPError) as raised:
        validate_payload(message_type, action, payload)
    return raised.value.code


def test_valid_payloads_pass():
    validate_payload(MessageType.call, "StartTransaction", START)
    validate_payload(MessageType.call, "Heartbeat", {})
    validate_payload(MessageType.call_result, "Heartbeat", {"currentTime": "2026-01-01T00:00:00Z"})
    validate_payload(MessageType.call, "RemoteStartTransaction", {"idTag": "A", "connectorId": 1})


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        ("BootNotification", {"chargePointVendor": "x"}, "OccurenceConstraintViolation"),
        ("StartTransaction", {**START, "connectorId": "one"}, "TypeConstraintViolation"),
        ("Heartbeat", {"surprise": 1}, "FormationViolation"),
        (
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Exploded"},
            "PropertyConstraintViolation",
        ),
        ("Authorize", {"idTag": "x" * 21}, "PropertyConstraintViolation"),
        ("MakeCoffee", {}, "NotImplemented"),
    ],
)
def test_bad_payloads_get_the_1_6_code(action, payload, code):
    assert _code(MessageType.call, action, payload) == code


def test_response_schemas_are_used_for_call_results():
    assert _code(MessageType.call_result, "BootNotification", {"status": "Accepted"}) == (
        "OccurenceConstraintViolation"
    )


def test_error_details_name_the_field():
    with pytest.raises(OCPPError) as raised:
        validate_payload(MessageType.call, "StartTransaction", {**START, "connectorId": "one"})
    assert "connectorId" in raised.value.details["cause"]


@pytest.mark.parametrize(
    "payload",
    [
        {**START, "meterStart": 2**31},
        {**START, "meterStart": -(2**31) - 1},
        {**START, "reservationId": 2**64},
    ],
)
def test_integers_beyond_32_bits_are_property_constraint_violations(payload):
    # OCPP 1.6 integers are 32 bit; the schemas say only "integer".
    with pytest.raises(OCPPError) as raised:
        validate_payload(MessageType.call, "StartTransaction", payload)
    assert raised.value.code == "PropertyConstraintViolation"
    assert "32-bit" in raised.value.details["cause"]


def test_integers_at_the_32_bit_bounds_pass():
    validate_payload(
        MessageType.call,
        "StartTransaction",
        {**START, "meterStart": 2**31 - 1, "reservationId": -(2**31)},
    )
