"""Each quirk of docs/validation.md through a real gateway and worker: accepted and recorded in
lenient mode, refused with its OCPP 1.6 code in strict mode."""

from __future__ import annotations

import asyncio
import json

import pytest

from charging.models import (
    ChargePoint,
    Connector,
    Message,
    MeterValue,
    OutboundCall,
    Transaction,
)
from levity.devstack import raw_charger, raw_exchange, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db")]

BOOT = {"chargePointVendor": "Vendor", "chargePointModel": "Model"}
STATUS = {"connectorId": 1, "errorCode": "NoError", "status": "Available"}
START = {
    "connectorId": 1,
    "idTag": "TAG-1",
    "meterStart": 1500,
    "timestamp": "2026-01-01T10:00:00Z",
}
SAMPLE = {"timestamp": "2026-01-01T10:05:00Z", "sampledValue": [{"value": "2000"}]}

# (unique id, action, payload, the violation lenient mode records, strict mode's code): one row
# per quirk of the table in docs/validation.md (a later BootNotification replaces what an
# earlier one reported: the long serial number comes last).
QUIRKS = [
    (
        "vendor-field",
        "BootNotification",
        {**BOOT, "vendorInfo": {"board": 3}},
        {"rule": "additionalProperties", "field": "vendorInfo"},
        "FormationViolation",
    ),
    (
        "long-serial",
        "BootNotification",
        {**BOOT, "chargePointSerialNumber": "S" * 30},
        {"rule": "maxLength", "field": "chargePointSerialNumber"},
        "PropertyConstraintViolation",
    ),
    (
        "long-vendor-error",
        "StatusNotification",
        {**STATUS, "vendorErrorCode": "E" * 60},
        {"rule": "maxLength", "field": "vendorErrorCode"},
        "PropertyConstraintViolation",
    ),
    (
        "no-zone",
        "StatusNotification",
        {**STATUS, "timestamp": "2026-01-01T10:00:00"},
        {"rule": "format", "field": "timestamp"},
        "PropertyConstraintViolation",
    ),
    (
        "space",
        "StatusNotification",
        {**STATUS, "timestamp": "2026-01-01 10:00:00Z"},
        {"rule": "format", "field": "timestamp"},
        "PropertyConstraintViolation",
    ),
    (
        "unreadable-time",
        "StatusNotification",
        {**STATUS, "timestamp": "0000-00-00T00:00:00"},
        {"rule": "format", "field": "timestamp"},
        "PropertyConstraintViolation",
    ),
    (
        "number-as-string",
        "StartTransaction",
        {**START, "meterStart": "1500"},
        {"rule": "type", "field": "meterStart"},
        "TypeConstraintViolation",
    ),
    (
        "number-for-string",
        "MeterValues",
        {"connectorId": 1, "meterValue": [{**SAMPLE, "sampledValue": [{"value": 2000}]}]},
        {"rule": "type", "field": "meterValue.0.sampledValue.0.value"},
        "TypeConstraintViolation",
    ),
    (
        "enum-case",
        "StatusNotification",
        {**STATUS, "status": "available", "errorCode": "noerror"},
        {"rule": "enum", "field": "errorCode"},  # and status
        "PropertyConstraintViolation",
    ),
]


def _send_all(port: int, cp_id: str) -> dict[str, list]:
    async def scenario():
        async with raw_charger(port, cp_id) as ws:
            return {
                unique_id: await raw_exchange(ws, json.dumps([2, unique_id, action, payload]))
                for unique_id, action, payload, _, _ in QUIRKS
            }

    return asyncio.run(scenario())


def test_lenient_mode_accepts_each_quirk_and_records_it(stack):
    answers = _send_all(stack.port, "E2E-LENIENT")
    assert {uid: answer[0] for uid, answer in answers.items()} == {uid: 3 for uid, *_ in QUIRKS}
    for unique_id, _, payload, violation, _ in QUIRKS:
        message = Message.objects.get(
            charge_point_id="E2E-LENIENT", direction="in", unique_id=unique_id
        )
        assert violation in message.violations, unique_id
        assert message.payload == payload and json.loads(message.raw)[3] == payload  # as received
    # What the middleware saw was normalised.
    assert ChargePoint.objects.get(id="E2E-LENIENT").serial_number == "S" * 25
    connector = Connector.objects.get(charge_point_id="E2E-LENIENT", connector_id=1)
    assert (connector.status, connector.error_code) == ("Available", "NoError")
    assert Transaction.objects.get(charge_point_id="E2E-LENIENT").meter_start == 1500
    assert MeterValue.objects.get(charge_point_id="E2E-LENIENT").value == "2000"


def test_strict_mode_refuses_each_quirk_with_its_code(stack):
    ChargePoint.objects.create(id="E2E-STRICT", validation="strict")
    answers = _send_all(stack.port, "E2E-STRICT")
    assert {uid: answer[:3] for uid, answer in answers.items()} == {
        uid: [4, uid, code] for uid, _, _, _, code in QUIRKS
    }
    assert not Message.objects.filter(
        charge_point_id="E2E-STRICT", violations__isnull=False
    ).exists()
    assert not Transaction.objects.filter(charge_point_id="E2E-STRICT").exists()


def _answer_remote_start(port: int, cp_id: str) -> str:
    """Plug in (Preparing), and answer the RemoteStartTransaction that follows in lower case."""

    async def scenario():
        async with raw_charger(port, cp_id) as ws:
            preparing = {**STATUS, "status": "Preparing"}
            answer = await raw_exchange(
                ws, json.dumps([2, "plug", "StatusNotification", preparing])
            )
            assert answer[:2] == [3, "plug"]
            remote_start = json.loads(await asyncio.wait_for(ws.recv(), 15))
            assert remote_start[:1] + remote_start[2:3] == [2, "RemoteStartTransaction"]
            await ws.send(json.dumps([3, remote_start[1], {"status": "accepted"}]))
            return remote_start[1]

    unique_id = asyncio.run(scenario())
    return wait_until(
        lambda: OutboundCall.objects.filter(unique_id=unique_id).exclude(status="sent").first(),
        timeout=15,
        what="the answer to be recorded",
    )


def test_a_quirky_answer_is_normalised_in_lenient_mode(stack):
    call = _answer_remote_start(stack.port, "E2E-ANSWER-LENIENT")
    assert (call.status, call.response) == ("answered", {"status": "Accepted"})
    answer = Message.objects.get(answer_to=call.message, direction="in")
    assert answer.violations == [{"rule": "enum", "field": "status"}]
    assert answer.payload == {"status": "accepted"}


def test_a_quirky_answer_is_an_error_in_strict_mode(stack):
    ChargePoint.objects.create(id="E2E-ANSWER-STRICT", validation="strict")
    call = _answer_remote_start(stack.port, "E2E-ANSWER-STRICT")
    assert (call.status, call.error_code) == ("call_error", "PropertyConstraintViolation")
