"""Malformed frames get the right OCPP-J 1.6 CALLERROR, are logged, and break nothing."""

from __future__ import annotations

import asyncio
import json

import pytest

from charging.models import ChargePoint, Message
from levity.devstack import raw_charger, raw_exchange

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db")]

HEARTBEAT = json.dumps([2, "hb-after", "Heartbeat", {}])


def test_bad_frames_are_answered_with_1_6_codes_and_the_connection_stays(stack):
    # Strict: lenient validation (the default) accepts the unknown field (docs/validation.md).
    ChargePoint.objects.create(id="E2E-BAD", validation="strict")

    async def scenario():
        async with raw_charger(stack.port, "E2E-BAD") as ws:
            await ws.send("this is not json")
            await ws.send('{"not": "a frame"}')
            answers = {
                "short": await raw_exchange(ws, json.dumps([2, "bad-1", "Heartbeat"])),
                "missing": await raw_exchange(
                    ws, json.dumps([2, "bad-2", "BootNotification", {"chargePointVendor": "x"}])
                ),
                "type": await raw_exchange(
                    ws,
                    json.dumps(
                        [
                            2,
                            "bad-3",
                            "StartTransaction",
                            {
                                "connectorId": "one",
                                "idTag": "A",
                                "meterStart": 0,
                                "timestamp": "2026-01-01T00:00:00Z",
                            },
                        ]
                    ),
                ),
                "extra": await raw_exchange(
                    ws, json.dumps([2, "bad-4", "Heartbeat", {"surprise": 1}])
                ),
                "value": await raw_exchange(
                    ws,
                    json.dumps(
                        [
                            2,
                            "bad-5",
                            "StatusNotification",
                            {"connectorId": 1, "errorCode": "NoError", "status": "Exploded"},
                        ]
                    ),
                ),
                "unknown": await raw_exchange(ws, json.dumps([2, "bad-6", "MakeCoffee", {}])),
                "wrong_direction": await raw_exchange(
                    ws, json.dumps([2, "bad-7", "Reset", {"type": "Hard"}])
                ),
            }
            # A CALLERROR and an unknown CALLRESULT from the charger: recorded, never answered.
            await ws.send(json.dumps([4, "nobody-asked", "InternalError", "oops", {}]))
            await ws.send(json.dumps([3, "nobody-asked-2", {}]))
            answers["after"] = await raw_exchange(ws, HEARTBEAT)
            return answers

    answers = asyncio.run(scenario())
    codes = {name: answer[2] for name, answer in answers.items() if answer[0] == 4}
    assert codes == {
        "short": "FormationViolation",
        "missing": "OccurenceConstraintViolation",
        "type": "TypeConstraintViolation",
        "extra": "FormationViolation",
        "value": "PropertyConstraintViolation",
        "unknown": "NotImplemented",
        "wrong_direction": "NotSupported",
    }
    assert answers["after"][:2] == [3, "hb-after"]
    logged = Message.objects.filter(charge_point_id="E2E-BAD", direction="in")
    assert logged.count() == 12  # every frame, even the unparseable ones
    assert logged.filter(message_type=4, unique_id="nobody-asked").exists()


def test_pipelined_meter_values_are_stored_in_send_order_while_another_charger_is_served(stack):
    count = 50

    def meter(n: int) -> str:
        sample = {"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": str(n)}]}
        return json.dumps([2, f"mv-{n}", "MeterValues", {"connectorId": 1, "meterValue": [sample]}])

    async def pipelined():
        async with raw_charger(stack.port, "E2E-PIPE") as ws:
            for n in range(count):  # all sent before any answer is read
                await ws.send(meter(n))
            return [json.loads(await asyncio.wait_for(ws.recv(), 60)) for _ in range(count)]

    async def other():
        async with raw_charger(stack.port, "E2E-OTHER") as ws:
            return [
                await raw_exchange(ws, json.dumps([2, f"hb-{n}", "Heartbeat", {}]))
                for n in range(10)
            ]

    async def both():
        return await asyncio.gather(pipelined(), other())

    answers, other_answers = asyncio.run(both())
    assert [a[:2] for a in answers] == [[3, f"mv-{n}"] for n in range(count)]
    assert [a[1] for a in other_answers] == [f"hb-{n}" for n in range(10)]
    from charging.models import MeterValue

    stored = list(
        MeterValue.objects.filter(charge_point_id="E2E-PIPE")
        .order_by("id")
        .values_list("value", flat=True)
    )
    assert stored == [str(n) for n in range(count)]
