"""Strict and lenient validation: each quirk of docs/validation.md in both modes, and the hard rules."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charging.protocol import CHARGE_POINT_ACTIONS, MessageType, OCPPError
from charging.protocol.errors import ERROR_CODES
from charging.protocol.validation import (
    LENIENT,
    SOFT_RULES,
    STRICT,
    validate,
    validate_answer,
    validate_call,
    validate_payload,
)
from tests.protocol.test_fuzz import payloads

BOOT = {"chargePointVendor": "Vendor", "chargePointModel": "Model"}
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
START = {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "2026-01-01T00:00:00Z"}
METER = {
    "connectorId": 1,
    "transactionId": 7,
    "meterValue": [{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": "10"}]}],
}

# (action, payload sent, the payload the middleware see, violations, strict mode's code)
QUIRKS = [
    pytest.param(
        "BootNotification",
        {**BOOT, "chargePointSerialNumber": "S" * 30},
        {**BOOT, "chargePointSerialNumber": "S" * 25},
        [{"rule": "maxLength", "field": "chargePointSerialNumber"}],
        "PropertyConstraintViolation",
        id="long-serial-number",
    ),
    pytest.param(
        "StatusNotification",
        {**STATUS, "vendorErrorCode": "E" * 60},
        {**STATUS, "vendorErrorCode": "E" * 50},
        [{"rule": "maxLength", "field": "vendorErrorCode"}],
        "PropertyConstraintViolation",
        id="long-vendor-error-code",
    ),
    pytest.param(
        "BootNotification",
        {**BOOT, "vendorInfo": {"board": 3}, "uptime": 12},
        BOOT,
        [
            {"rule": "additionalProperties", "field": "vendorInfo"},
            {"rule": "additionalProperties", "field": "uptime"},
        ],
        "FormationViolation",
        id="vendor-fields",
    ),
    pytest.param(
        "StartTransaction",
        {**START, "timestamp": "2026-01-01T10:00:00"},
        {**START, "timestamp": "2026-01-01T10:00:00.000Z"},
        [{"rule": "format", "field": "timestamp"}],
        "PropertyConstraintViolation",
        id="timestamp-without-zone",
    ),
    pytest.param(
        "StatusNotification",
        {**STATUS, "timestamp": "2026-01-01 10:00:00+01:00"},
        {**STATUS, "timestamp": "2026-01-01T09:00:00.000Z"},
        [{"rule": "format", "field": "timestamp"}],
        "PropertyConstraintViolation",
        id="timestamp-with-space",
    ),
    pytest.param(
        "StartTransaction",
        {**START, "connectorId": "1", "meterStart": " 1500"},
        {**START, "connectorId": 1, "meterStart": 1500},
        [{"rule": "type", "field": "connectorId"}, {"rule": "type", "field": "meterStart"}],
        "TypeConstraintViolation",
        id="numbers-as-strings",
    ),
    pytest.param(
        "MeterValues",
        {**METER, "meterValue": [{**METER["meterValue"][0], "sampledValue": [{"value": 10}]}]},
        METER,
        [{"rule": "type", "field": "meterValue.0.sampledValue.0.value"}],
        "TypeConstraintViolation",
        id="number-for-a-string",
    ),
    pytest.param(
        "StatusNotification",
        {**STATUS, "errorCode": "noError", "status": "AVAILABLE"},
        STATUS,
        [{"rule": "enum", "field": "errorCode"}, {"rule": "enum", "field": "status"}],
        "PropertyConstraintViolation",
        id="enum-case",
    ),
    pytest.param(
        "MeterValues",
        {
            **METER,
            "meterValue": [
                {"timestamp": "2026-01-01 00:00:00", "sampledValue": [{"value": "10"}], "x": 1}
            ],
        },
        {
            **METER,
            "meterValue": [
                {"timestamp": "2026-01-01T00:00:00.000Z", "sampledValue": [{"value": "10"}]}
            ],
        },
        [
            {"rule": "additionalProperties", "field": "meterValue.0.x"},
            {"rule": "format", "field": "meterValue.0.timestamp"},
        ],
        "FormationViolation",
        id="nested",
    ),
]


@pytest.mark.parametrize(("action", "sent", "seen", "violations", "code"), QUIRKS)
def test_lenient_accepts_a_quirk_normalised_and_records_it(action, sent, seen, violations, code):
    original = copy.deepcopy(sent)
    payload, found = validate_call(action, sent, LENIENT)
    assert payload == seen
    assert sorted(found, key=str) == sorted(violations, key=str)
    assert sent == original  # the charger's payload is stored as received


@pytest.mark.parametrize(("action", "sent", "seen", "violations", "code"), QUIRKS)
def test_strict_refuses_a_quirk_with_its_1_6_code(action, sent, seen, violations, code):
    with pytest.raises(OCPPError) as raised:
        validate_call(action, sent, STRICT)
    assert raised.value.code == code
    with pytest.raises(OCPPError):
        validate_payload(MessageType.call, action, sent)  # our own payloads: always strict


def test_an_unreadable_timestamp_is_kept_in_lenient_mode_and_refused_in_strict():
    sent = {**START, "timestamp": "yesterday"}
    assert validate_call("StartTransaction", sent, LENIENT) == (
        sent,
        [{"rule": "format", "field": "timestamp"}],
    )
    with pytest.raises(OCPPError) as raised:
        validate_call("StartTransaction", sent, STRICT)
    assert raised.value.code == "PropertyConstraintViolation"


HARD = [
    pytest.param("BootNotification", {"chargePointVendor": "V"}, "OccurenceConstraintViolation"),
    pytest.param("StartTransaction", {**START, "connectorId": "one"}, "TypeConstraintViolation"),
    pytest.param("StartTransaction", {**START, "connectorId": 1.5}, "TypeConstraintViolation"),
    pytest.param("StartTransaction", {**START, "meterStart": "1e3"}, "TypeConstraintViolation"),
    pytest.param("StartTransaction", {**START, "idTag": "T" * 21}, "PropertyConstraintViolation"),
    pytest.param(
        "StatusNotification", {**STATUS, "status": "Broken"}, "PropertyConstraintViolation"
    ),
    pytest.param(
        "MeterValues",
        {"connectorId": 1, "meterValue": [{"timestamp": "2026-01-01T00:00:00Z"}]},
        "OccurenceConstraintViolation",
    ),
]


@pytest.mark.parametrize(("action", "sent", "code"), HARD)
@pytest.mark.parametrize("mode", [LENIENT, STRICT])
def test_hard_violations_are_refused_in_both_modes(action, sent, code, mode):
    with pytest.raises(OCPPError) as raised:
        validate_call(action, sent, mode)
    assert raised.value.code == code


def test_a_coerced_number_beyond_32_bits_is_refused():
    with pytest.raises(OCPPError) as raised:
        validate_call("StartTransaction", {**START, "meterStart": str(2**31)}, LENIENT)
    assert raised.value.code == "PropertyConstraintViolation"
    assert "32-bit" in raised.value.details["cause"]


def test_a_hard_violation_wins_over_soft_ones_in_lenient_mode():
    sent = {"chargePointVendor": "V" * 30, "surprise": 1}  # chargePointModel missing
    with pytest.raises(OCPPError) as raised:
        validate_call("BootNotification", sent, LENIENT)
    assert raised.value.code == "OccurenceConstraintViolation"


def test_a_valid_payload_is_returned_as_is_without_violations():
    assert validate_call("StartTransaction", START, LENIENT) == (START, [])
    assert validate_call("StartTransaction", START, STRICT) == (START, [])


def test_answers_are_normalised_in_lenient_mode():
    assert validate_answer("RemoteStartTransaction", {"status": "accepted"}, LENIENT) == (
        {"status": "Accepted"},
        [{"rule": "enum", "field": "status"}],
    )
    with pytest.raises(OCPPError) as raised:
        validate_answer("RemoteStartTransaction", {"status": "accepted"}, STRICT)
    assert raised.value.code == "PropertyConstraintViolation"


def test_multiple_of_a_tenth_is_exact():
    # jsonschema with binary floats refused 21.4 (21.399999…); the schemas mean decimals.
    def profile(limit):
        period = {"startPeriod": 0, "limit": limit}
        schedule = {"chargingRateUnit": "A", "chargingSchedulePeriod": [period]}
        return {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": schedule,
            },
        }

    validate_payload(MessageType.call, "SetChargingProfile", profile(21.4))
    validate_payload(MessageType.call, "SetChargingProfile", profile(0.3))
    with pytest.raises(OCPPError) as raised:
        validate_payload(MessageType.call, "SetChargingProfile", profile(21.45))
    assert raised.value.code == "PropertyConstraintViolation"
    assert "limit" in raised.value.details["cause"]


def test_lone_surrogates_get_a_code_not_an_exception():
    with pytest.raises(OCPPError) as raised:
        validate(
            MessageType.call, "StartTransaction", {**START, "connectorId": "\ud800"}, mode=STRICT
        )
    assert raised.value.code == "TypeConstraintViolation"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(CHARGE_POINT_ACTIONS)), payloads)
def test_lenient_mode_normalises_to_a_valid_payload_or_raises_a_1_6_code(action, payload):
    try:
        normalised, violations = validate_call(action, payload, LENIENT)
    except OCPPError as error:
        assert error.code in ERROR_CODES
        return
    assert {v["rule"] for v in violations} <= set(SOFT_RULES)
    unreadable = {v["field"] for v in violations if v["rule"] == "format"}
    try:
        validate_payload(MessageType.call, action, normalised)
    except OCPPError as error:
        # Only an unreadable time stamp is left as it came.
        assert error.code == "PropertyConstraintViolation"
        assert error.details["cause"].split(":")[0] in unreadable
