"""A frozen private Redis costs a timeout, never a stall: chargers answered, commands in time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.request
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from ocpp.v16 import call
from rest_framework.authtoken.models import Token

from benchmarks.command_latency import start_web
from levity.devstack import charger

from .harness import FaultStack, PrivateRedis

pytestmark = [pytest.mark.faults, pytest.mark.timeout(120)]

CHARGERS = 4
FROZEN = 8.0  # seconds Redis stays frozen while the chargers and the API keep working
WAIT = 5.0  # the API's ?wait=
MARGIN = 1.5  # at most one blocking Redis command's timeout (MAX_BLOCK + OCPP_REDIS_TIMEOUT)


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path).start()
    yield redis
    redis.stop()


def _start_web(faults: FaultStack) -> str:
    web, port = start_web(faults.tmp, faults.env)
    faults.workers.append(web)  # stopped with the stack
    return f"http://127.0.0.1:{port}"


def _command(base: str, token: str, cp_id: str) -> tuple[int, float, dict]:
    """POST ClearCache with ?wait=WAIT: HTTP status, seconds it took, the recorded call."""
    request = urllib.request.Request(
        f"{base}/api/v1/charge-points/{cp_id}/calls/ClearCache/?wait={WAIT:g}",
        data=b"{}",
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    began = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=WAIT + 20) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    return status, time.monotonic() - began, json.loads(body)


def test_a_frozen_redis_costs_a_timeout_not_a_stall(faults: FaultStack, private_redis):
    faults.env.update(REDIS_URL=private_redis.url, OCPP_REDIS_TIMEOUT="0.5")
    faults.start_worker()
    _, port = faults.start_gateway()
    base = _start_web(faults)
    # An operator who may send commands (the API asks what the admin asks).
    token = Token.objects.create(user=User.objects.create_superuser("redis-frozen")).key
    ids = [f"REDIS-FROZEN-{n}" for n in range(CHARGERS)]

    async def scenario() -> tuple[list[float], list[tuple[int, float, dict]]]:
        async with contextlib.AsyncExitStack() as stack:
            points = [await stack.enter_async_context(charger(port, cp_id)) for cp_id in ids]
            for cp in points:
                await cp.call(
                    call.BootNotification(charge_point_vendor="L", charge_point_model="R")
                )
            # With Redis up, a command's caller is woken through it.
            status, _, warm = await asyncio.to_thread(_command, base, token, ids[0])
            assert status == 200 and warm["status"] == "answered"

            private_redis.freeze()
            latencies: list[float] = []
            end = time.monotonic() + FROZEN

            async def heartbeats(cp) -> None:
                while time.monotonic() < end:
                    began = time.monotonic()
                    await cp.call(call.Heartbeat())
                    latencies.append(time.monotonic() - began)
                    await asyncio.sleep(0.3)

            # Every charger is sent a command while Redis is frozen, twice: each answer's
            # wake-up meets the frozen Redis in a worker.
            async def commands() -> list[tuple[int, float, dict]]:
                results = []
                for _ in range(2):
                    results += await asyncio.gather(
                        *(asyncio.to_thread(_command, base, token, cp_id) for cp_id in ids)
                    )
                return results

            try:
                results, *_ = await asyncio.gather(commands(), *(heartbeats(cp) for cp in points))
            finally:
                private_redis.thaw()
            return latencies, results

    latencies, results = asyncio.run(scenario())
    slowest = max(elapsed for _, elapsed, _ in results)
    print(
        f"\nRedis frozen {FROZEN:g} s: {len(latencies)} Heartbeats, slowest "
        f"{max(latencies):.2f} s; {len(results)} commands (?wait={WAIT:g}), slowest {slowest:.2f} s"
    )
    assert [status for status, _, _ in results] == [200] * len(results)
    assert all(body["status"] == "answered" for _, _, body in results)
    assert slowest < WAIT + MARGIN
    assert len(latencies) >= CHARGERS * FROZEN / 2  # nobody stalled
    assert max(latencies) < 2.0
