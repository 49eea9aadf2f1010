"""Two worker processes on `cp.*`: chargers are served in parallel, each one in order."""

from __future__ import annotations

import asyncio
import json

import pytest

from charging.models import MeterValue, Transaction
from levity.devstack import raw_charger, raw_exchange, start_worker

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db")]


def test_two_workers_serve_many_chargers_each_in_order(stack):
    second = start_worker(stack.tmp, stack.env, name="worker-2", concurrency=1)
    chargers, samples = 12, 15

    async def session(index: int) -> list[list]:
        cp_id = f"E2E-SCALE-{index}"
        async with raw_charger(stack.port, cp_id) as ws:
            answers = [
                await raw_exchange(
                    ws,
                    json.dumps(
                        [
                            2,
                            "s",
                            "StartTransaction",
                            {
                                "connectorId": 1,
                                "idTag": "T",
                                "meterStart": 0,
                                "timestamp": "2026-01-01T00:00:00Z",
                            },
                        ]
                    ),
                )
            ]
            transaction_id = answers[0][2]["transactionId"]
            for n in range(samples):
                sample = {"timestamp": "2026-01-01T00:00:00Z", "sampledValue": [{"value": str(n)}]}
                await ws.send(
                    json.dumps(
                        [
                            2,
                            f"m{n}",
                            "MeterValues",
                            {
                                "connectorId": 1,
                                "transactionId": transaction_id,
                                "meterValue": [sample],
                            },
                        ]
                    )
                )
            answers += [json.loads(await asyncio.wait_for(ws.recv(), 60)) for _ in range(samples)]
            answers.append(
                await raw_exchange(
                    ws,
                    json.dumps(
                        [
                            2,
                            "e",
                            "StopTransaction",
                            {
                                "transactionId": transaction_id,
                                "meterStop": 10,
                                "timestamp": "2026-01-01T01:00:00Z",
                            },
                        ]
                    ),
                )
            )
            return answers

    async def everyone():
        return await asyncio.gather(*(session(i) for i in range(chargers)))

    try:
        results = asyncio.run(everyone())
    finally:
        second.stop()

    for answers in results:
        assert [a[0] for a in answers] == [3] * (samples + 2)
        assert [a[1] for a in answers[1:-1]] == [f"m{n}" for n in range(samples)]
    assert (
        Transaction.objects.filter(
            charge_point__id__startswith="E2E-SCALE-", stopped_at__isnull=False
        ).count()
        == chargers
    )
    for index in range(chargers):
        stored = (
            MeterValue.objects.filter(charge_point_id=f"E2E-SCALE-{index}")
            .order_by("id")
            .values_list("value", flat=True)
        )
        assert list(stored) == [str(n) for n in range(samples)]
    assert "levity.handle_frame" in second.log()  # the second worker really took a share
