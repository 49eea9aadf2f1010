"""`kill -9` of a gateway holding 1,000 chargers: they reconnect to another gateway and are
served; the dead gateway's presence lease expires, so the ones that do not come back are taken
offline within a bounded time, and the commands it held end `offline`."""

from __future__ import annotations

import asyncio
import json
import random
import resource
import time
from dataclasses import dataclass, field

import pytest
import websockets
from django.db import connections

from charging import services
from charging.models import ChargePoint, ConnectionEvent, OutboundCall
from levity.devstack import wait_until

from .harness import CallStats, FaultStack, RetryingCharger, kill_group, send_command

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(300)]

CHARGERS = 1000
STAY_AWAY = 100  # chargers that never reconnect: only presence can take them offline
COMMANDED = 50  # of those, and of the ones that come back, each with a command outstanding
TTL = 3.0
CHECK_EVERY = 1.0
BOOT = {"chargePointVendor": "Levity", "chargePointModel": "Fault"}


@dataclass
class Fleet:
    """What the simulated chargers saw."""

    booted: set[str] = field(default_factory=set)  # booted on the second gateway
    rebooted_at: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    calls_received: set[str] = field(default_factory=set)  # unique ids of our CALLs
    stats: CallStats = field(default_factory=CallStats)  # the second boots


async def _boot(ws, cp_id: str, n: int) -> None:
    await ws.send(json.dumps([2, f"{cp_id}-boot-{n}", "BootNotification", BOOT]))
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if message[0] == 3 and message[1] == f"{cp_id}-boot-{n}":
            assert message[2]["status"] == "Accepted", message
            return


async def _charger(
    cp_id: str,
    port_a: int,
    port_b: int,
    *,
    comes_back: bool,
    booted: asyncio.Event,
    fleet: Fleet,
    gate: asyncio.Semaphore,
) -> None:
    async with gate:  # bounded concurrency of handshakes, as chargers don't all boot at once
        ws = await websockets.connect(f"ws://127.0.0.1:{port_a}/ocpp/{cp_id}", ping_interval=None)
        await _boot(ws, cp_id, 1)
    booted.set()
    try:
        # Read until the gateway dies; our CALLs are received and never answered.
        async for raw in ws:
            message = json.loads(raw)
            if message[0] == 2:
                fleet.calls_received.add(message[1])
    except websockets.ConnectionClosed:
        pass
    if not comes_back:
        return
    await asyncio.sleep(random.uniform(0, 1.0))  # real chargers back off before reconnecting
    try:
        async with websockets.connect(
            f"ws://127.0.0.1:{port_b}/ocpp/{cp_id}", ping_interval=None, open_timeout=30
        ) as again:
            # Like a real charger: the same BootNotification again after an InternalError or
            # no answer in time, until Accepted.
            charger = RetryingCharger(again, f"{cp_id}-again", fleet.stats, timeout=15)
            answer = await charger.call("BootNotification", BOOT)
            assert answer["status"] == "Accepted", answer
            fleet.booted.add(cp_id)
            fleet.rebooted_at.append(time.monotonic())
            await asyncio.sleep(3600)  # stay connected until cancelled
    except (OSError, TimeoutError, AssertionError, websockets.WebSocketException) as error:
        fleet.errors.append(f"{cp_id}: {error!r}")


def _count(**filters) -> int:
    try:
        return ChargePoint.objects.filter(**filters).count()
    finally:
        connections.close_all()


def test_gateway_killed_with_1000_chargers(faults: FaultStack):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    faults.env.update(
        OCPP_GATEWAY_PRESENCE_TTL=str(TTL),
        OCPP_GATEWAY_PRESENCE_CHECK_EVERY=str(CHECK_EVERY),
        OCPP_CALL_TIMEOUT="120",
    )
    faults.start_worker(concurrency=2)
    faults.start_beat()
    tag = random.randrange(16**6)
    gateway_a, port_a = faults.start_gateway("gateway-a", extra=["--gateway-id", f"a-{tag:x}"])
    _, port_b = faults.start_gateway("gateway-b", extra=["--gateway-id", f"b-{tag:x}"])
    ids = [f"GK-{n:04d}" for n in range(CHARGERS)]
    away = set(ids[:STAY_AWAY])
    commanded = ids[:COMMANDED] + ids[STAY_AWAY : STAY_AWAY + COMMANDED]
    fleet = Fleet()

    async def scenario() -> dict[str, float]:
        gate = asyncio.Semaphore(100)
        booted = [asyncio.Event() for _ in ids]
        tasks = [
            asyncio.create_task(
                _charger(
                    cp_id,
                    port_a,
                    port_b,
                    comes_back=cp_id not in away,
                    booted=event,
                    fleet=fleet,
                    gate=gate,
                )
            )
            for cp_id, event in zip(ids, booted, strict=True)
        ]
        began = time.monotonic()
        async with asyncio.timeout(120):
            await asyncio.gather(*(event.wait() for event in booted))
        boot_seconds = time.monotonic() - began
        await asyncio.to_thread(
            wait_until,
            lambda: _count(connected=True, gateway_id=f"a-{tag:x}") == CHARGERS,
            timeout=60,
            what="every charger connected on gateway a",
        )
        calls = await asyncio.to_thread(_send_commands, faults, commanded)
        await asyncio.to_thread(
            wait_until,
            lambda: fleet.calls_received >= calls,
            timeout=30,
            what="every command delivered (outstanding on gateway a)",
        )

        killed_at = await asyncio.to_thread(kill_group, gateway_a)
        offline = asyncio.create_task(asyncio.to_thread(_offline_at, away))
        async with asyncio.timeout(180):
            while len(fleet.booted) + len(fleet.errors) < CHARGERS - STAY_AWAY:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        rebooted = max(fleet.rebooted_at) - killed_at
        offline_at = await offline
        # Before the chargers leave (their disconnects would change it).
        on_b = await asyncio.to_thread(
            _count, id__in=fleet.booted, connected=True, gateway_id=f"b-{tag:x}"
        )
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {
            "boot": boot_seconds,
            "rebooted": rebooted,
            "offline": offline_at - killed_at,
            "on_b": on_b,
        }

    figures = asyncio.run(scenario())

    assert fleet.errors == []
    assert fleet.booted == set(ids) - away
    assert figures["on_b"] == len(fleet.booted)
    assert not ChargePoint.objects.filter(id__in=away, connected=True).exists()
    reaped = ConnectionEvent.objects.filter(
        charge_point_id__in=away, kind="disconnect", reason=ConnectionEvent.PRESENCE_EXPIRED
    )
    assert reaped.count() == STAY_AWAY  # one each: nothing reaped twice
    statuses = set(
        OutboundCall.objects.filter(charge_point_id__in=commanded).values_list("status", flat=True)
    )
    assert statuses == {"offline"}
    # Bounded: the lease's TTL, one check interval, and the time to process the check.
    assert figures["offline"] < TTL + CHECK_EVERY + 10, figures
    print(
        f"\ngateway killed with {CHARGERS} chargers: all booted in {figures['boot']:.1f} s; "
        f"{len(fleet.booted)} re-booted on the other gateway {figures['rebooted']:.1f} s after "
        f"the kill; {STAY_AWAY} that stayed away offline {figures['offline']:.1f} s after it "
        f"(TTL {TTL:.0f} s, check every {CHECK_EVERY:.0f} s); "
        f"{len(commanded)} outstanding commands ended offline; second boots: "
        f"{fleet.stats.summary()}"
    )


def _offline_at(charge_point_ids: set[str]) -> float:
    """When none of `charge_point_ids` is connected any more (monotonic)."""
    wait_until(
        lambda: _count(id__in=charge_point_ids, connected=False) == len(charge_point_ids),
        timeout=TTL + CHECK_EVERY + 60,
        interval=0.1,
        what="the chargers that stayed away taken offline",
    )
    return time.monotonic()


def _send_commands(faults: FaultStack, charge_point_ids: list[str]) -> set[str]:
    """A GetConfiguration to each, through the real command path (`levity.send_call`)."""
    try:
        unique_ids = set()
        for cp_id in charge_point_ids:
            call = services.outbound_call_create(
                charge_point=ChargePoint.objects.get(pk=cp_id),
                action="GetConfiguration",
                payload={},
                timeout=120,
            )
            send_command(faults.amqp_url, call)
            unique_ids.add(call.unique_id)
        return unique_ids
    finally:
        connections.close_all()
