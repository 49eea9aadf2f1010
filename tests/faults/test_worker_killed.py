"""`kill -9` of the whole Celery worker (its main process and any prefork children), again and again,
while 200 chargers run full sessions: nothing is lost, nothing is done twice."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import pytest
import websockets

from charging.models import Direction, Message, MeterValue, Transaction
from levity.devstack import wait_until

from .harness import CallStats, RetryingCharger, kill_group, quiet

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]

CHARGERS = 200
SAMPLES = 5
UP_BETWEEN_KILLS = 3.0  # seconds the worker runs before the next kill
# Seconds the worker stays dead after each kill. A restart takes about 1 s, less than the
# gateway's reply timeout: the redelivered events are answered in time. Staying down longer
# makes the gateway answer InternalError, and the chargers retry (the other path to cover).
DOWN = (0.0, 6.0, 0.0, 7.0)
# Outages of three reply timeouts: every CALL queued meanwhile has expired when a worker is back.
LONG_DOWN = (15.0, 15.0)
REPLY_TIMEOUT = 5.0  # the gateway's: an event lost with the worker is answered InternalError
CHARGER_TIMEOUT = 8.0  # > REPLY_TIMEOUT: the gateway's InternalError normally comes first
THINK = (1.0, 2.5)  # seconds between two CALLs of one charger (meter interval, say)
PREFIX = "FAULT-KILL-"


def _timestamp(minute: int) -> str:
    return f"2026-03-01T10:{minute:02d}:00Z"


async def _session(port: int, index: int, stats: CallStats) -> None:
    cp_id = f"{PREFIX}{index:03d}"
    rng = random.Random(index)
    await asyncio.sleep(rng.uniform(0, 3))  # chargers come online over a few seconds
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ocpp/{cp_id}",
        subprotocols=["ocpp1.6"],
        ping_interval=None,
        open_timeout=30,
    ) as ws:
        charger = RetryingCharger(ws, cp_id, stats, timeout=CHARGER_TIMEOUT, attempts=20)

        async def think() -> None:
            await asyncio.sleep(rng.uniform(*THINK))

        boot = await charger.call(
            "BootNotification", {"chargePointVendor": "Levity", "chargePointModel": "Fault"}
        )
        assert boot["status"] == "Accepted"
        await think()
        await charger.call(
            "StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError"}
        )
        await think()
        started = await charger.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "FAULT", "meterStart": 1000, "timestamp": _timestamp(0)},
        )
        transaction_id = started["transactionId"]
        for n in range(1, SAMPLES + 1):
            await think()
            await charger.call(
                "MeterValues",
                {
                    "connectorId": 1,
                    "transactionId": transaction_id,
                    "meterValue": [
                        {
                            "timestamp": _timestamp(n),
                            "sampledValue": [
                                {
                                    "value": str(1000 + 100 * n),
                                    "measurand": "Energy.Active.Import.Register",
                                    "unit": "Wh",
                                }
                            ],
                        }
                    ],
                },
            )
        await think()
        await charger.call(
            "StopTransaction",
            {
                "transactionId": transaction_id,
                "meterStop": 1000 + 100 * SAMPLES,
                "timestamp": _timestamp(SAMPLES + 1),
            },
        )


def _run_with_kills(faults, down: tuple[float, ...]) -> tuple[CallStats, list[dict[str, float]]]:
    """200 chargers in full sessions while the worker is killed after each UP_BETWEEN_KILLS
    seconds and kept down `down[i]` seconds; asserts every session stored exactly once."""
    worker = faults.start_worker("worker-0")
    _, port = faults.start_gateway(extra=["--reply-timeout", str(REPLY_TIMEOUT)])
    stats = CallStats()
    kills: list[dict[str, float]] = []

    async def killer(done: asyncio.Event) -> None:
        nonlocal worker
        while len(kills) < len(down) and not done.is_set():
            await asyncio.sleep(UP_BETWEEN_KILLS)
            if done.is_set():
                return
            killed_at = await asyncio.to_thread(kill_group, worker)
            await asyncio.sleep(down[len(kills)])
            worker = await asyncio.to_thread(faults.start_worker, f"worker-{len(kills) + 1}")
            kills.append({"at": killed_at, "ready": time.monotonic()})

    async def run() -> None:
        done = asyncio.Event()
        kill_loop = asyncio.create_task(killer(done))
        try:
            await asyncio.gather(*(_session(port, i, stats) for i in range(CHARGERS)))
        finally:
            done.set()
            await kill_loop

    started = time.monotonic()
    asyncio.run(run())
    elapsed = time.monotonic() - started
    wait_until(lambda: quiet(port), timeout=60, what="the gateway to deliver its last events")

    logs = faults.worker_logs()
    replayed = logs.count("redelivered, replaying its answer")
    repeated = Message.objects.filter(
        charge_point__id__startswith=PREFIX, direction=Direction.IN, note__startswith="repeat of"
    ).count()
    print(
        f"\n{CHARGERS} chargers, {len(kills)} kills in {elapsed:.1f}s: {stats.summary()}; "
        f"redelivered events replayed={replayed}, repeated CALLs answered again={repeated}; "
        "kill→ready / kill→first answer: "
        + ", ".join(
            f"{ready - kill['at']:.1f}/{answer - kill['at']:.1f}s"
            for kill, (ready, answer) in zip(kills, _recoveries(stats, kills), strict=True)
        )
    )
    assert len(kills) >= len(down) - 1, f"only {len(kills)} kills happened during the run"
    assert not stats.unexpected
    assert stats.calls == CHARGERS * (SAMPLES + 4)
    _assert_sessions_stored_once()
    return stats, kills


def _recoveries(stats: CallStats, kills: list[dict[str, float]]) -> list[tuple[float, float]]:
    """Per kill: when the worker was ready again, and when chargers were answered again (the
    first CALLRESULT after the restart)."""
    recoveries = []
    for kill in kills:
        answered = [at for at in stats.answered_at if at > kill["ready"]]
        recoveries.append((kill["ready"], min(answered) if answered else float("inf")))
    return recoveries


def _assert_sessions_stored_once() -> None:
    # Exactly one transaction per session, stopped once, with every meter value once.
    transactions = Transaction.objects.filter(charge_point__id__startswith=PREFIX)
    assert transactions.count() == CHARGERS
    per_charger = Counter(transactions.values_list("charge_point_id", flat=True))
    assert set(per_charger.values()) == {1}
    assert not transactions.filter(stopped_at__isnull=True).exists()
    assert not transactions.filter(closed_as_orphan=True).exists()
    assert set(transactions.values_list("meter_stop", flat=True)) == {1000 + 100 * SAMPLES}
    assert not transactions.filter(notes__contains="second StopTransaction").exists()
    expected = sorted(str(1000 + 100 * n) for n in range(1, SAMPLES + 1))
    values: dict[str, list[str]] = {}
    for cp_id, transaction_id, value in MeterValue.objects.filter(
        charge_point__id__startswith=PREFIX
    ).values_list("charge_point_id", "transaction_id", "value"):
        assert transaction_id is not None
        values.setdefault(cp_id, []).append(value)
    duplicates = {cp: sorted(v) for cp, v in values.items() if sorted(v) != expected}
    assert len(values) == CHARGERS
    assert not duplicates, f"meter values lost or stored twice: {list(duplicates.items())[:5]}"

    # Each CALL had its effect once: one processed (not "repeat of") frame per unique id.
    processed = Counter(
        Message.objects.filter(
            charge_point__id__startswith=PREFIX,
            direction=Direction.IN,
            message_type=2,
            action__in=["StartTransaction", "MeterValues", "StopTransaction"],
        )
        .exclude(note__startswith="repeat of")
        .values_list("charge_point_id", "unique_id")
    )
    assert len(processed) == CHARGERS * (SAMPLES + 2)
    assert set(processed.values()) == {1}


def test_worker_killed_repeatedly_loses_and_duplicates_nothing(faults):
    _run_with_kills(faults, DOWN)


def test_worker_down_longer_than_the_reply_timeout_recovers_at_once(faults):
    """Events pile up while no worker runs; the CALLs among them expire with the charger's
    InternalError. The broker drops those itself (per-message TTL): a worker that comes back
    must not spend its time discarding them while the chargers' retries pile up behind (the
    livelock of issue 14, point 4: 1,909 expired CALLs discarded one by one by the workers, 31 s
    to the first answer, chargers giving up after 20 attempts)."""
    stats, kills = _run_with_kills(faults, LONG_DOWN)
    assert len(kills) == len(LONG_DOWN)
    discarded = faults.worker_logs().count("Discarding revoked task")
    print(f"expired CALLs discarded by the workers: {discarded}")
    # Only those delivered in the instant before they expired (2-93 in 9 runs on a heavily
    # loaded machine), never the backlog: each outage leaves over 600 expired CALLs queued, of
    # which the workers discarded 800-1,900 one by one before the broker dropped them.
    assert discarded < 2 * CHARGERS
