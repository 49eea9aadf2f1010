"""MeterValues resent under a new unique id after stuck workers are stored once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psycopg
import pytest
import websockets
from django.db import connection

from charging.models import Message, MeterValue
from levity.devstack import wait_until
from tests.e2e.harness import in_thread

from .harness import FaultStack

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]

CHARGERS = 2  # one per worker process: each one's first MeterValues is stuck in a worker
REPLY_TIMEOUT = 2.0  # the gateway's: the charger gets InternalError after it
SAME_ID_ATTEMPTS = 2  # then the charger gives the id up and sends the values under a new one
VALUES = {
    "connectorId": 1,
    "meterValue": [
        {
            "timestamp": "2026-03-01T10:05:00Z",
            "sampledValue": [
                {"value": "1500"},
                {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
            ],
        }
    ],
}


async def _call(ws: Any, unique_id: str, action: str, payload: dict[str, Any]) -> list[Any]:
    await ws.send(json.dumps([2, unique_id, action, payload]))
    while True:
        answer = json.loads(await asyncio.wait_for(ws.recv(), 3 * REPLY_TIMEOUT))
        if answer[1] == unique_id:
            return answer


def _lock_charge_points(ids: list[str]) -> psycopg.Connection:
    """Hold the charge points' row locks, as a stuck worker would: their events wait."""
    settings = connection.settings_dict
    held = psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
    )
    held.execute("SELECT id FROM charging_chargepoint WHERE id = ANY(%s) FOR UPDATE", [ids])
    return held


def test_meter_values_resent_under_a_new_unique_id_are_stored_once(faults: FaultStack):
    faults.start_worker(concurrency=CHARGERS)
    _, port = faults.start_gateway(extra=["--reply-timeout", str(REPLY_TIMEOUT)])
    ids = [f"RESENT-{n}" for n in range(CHARGERS)]

    async def session(cp_id: str, started: asyncio.Event, resent: asyncio.Event) -> list[Any]:
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/ocpp/{cp_id}", subprotocols=["ocpp1.6"], ping_interval=None
        ) as ws:
            boot = {"chargePointVendor": "L", "chargePointModel": "R"}
            await _call(ws, f"{cp_id}-boot", "BootNotification", boot)
            start = {"connectorId": 1, "idTag": "R", "meterStart": 0}
            answer = await _call(
                ws,
                f"{cp_id}-start",
                "StartTransaction",
                {**start, "timestamp": "2026-03-01T10:00:00Z"},
            )
            payload = {**VALUES, "transactionId": answer[2]["transactionId"]}
            await started.wait()
            errors = [
                await _call(ws, f"{cp_id}-mv", "MeterValues", payload)
                for _ in range(SAME_ID_ATTEMPTS)
            ]
            assert [error[:3] for error in errors] == [[4, f"{cp_id}-mv", "InternalError"]] * 2
            resent.set()
            return await _call(ws, f"{cp_id}-mv-again", "MeterValues", payload)

    async def scenario() -> list[list[Any]]:
        started, resent = asyncio.Event(), asyncio.Event()
        sessions = [asyncio.create_task(session(cp_id, started, resent)) for cp_id in ids]
        await in_thread(
            wait_until,
            lambda: (
                Message.objects.filter(action="StartTransaction", message_type=3).count()
                == CHARGERS
            ),
            timeout=30,
            what="the transactions",
        )
        held = await asyncio.to_thread(_lock_charge_points, ids)
        started.set()
        try:
            await asyncio.wait_for(resent.wait(), 30)
        finally:
            await asyncio.to_thread(held.close)  # the stuck workers go on
        return await asyncio.gather(*sessions)

    answers = asyncio.run(scenario())
    assert [answer[0] for answer in answers] == [3] * CHARGERS
    # The first copies, stuck in the workers meanwhile, are processed too.
    first = Message.objects.filter(message_type=3, unique_id__in=[f"{i}-mv" for i in ids])
    wait_until(lambda: first.count() == CHARGERS, timeout=30, what="the stuck MeterValues")
    for cp_id in ids:
        stored = MeterValue.objects.filter(charge_point_id=cp_id)
        assert sorted(stored.values_list("value", flat=True)) == ["1500", "7.2"], cp_id
        copy = Message.objects.get(direction="in", unique_id=f"{cp_id}-mv-again")
        assert "repeat: 2 of 2 sampled values already stored" in copy.note
