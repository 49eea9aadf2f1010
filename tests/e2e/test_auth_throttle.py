"""Failed charger authentication backs off (issue 14, point 6), on a real `--authorize` gateway,
RabbitMQ, Celery worker and PostgreSQL: a guesser gets a few 401s, then 429 with Retry-After from
the gateway itself; its refusals are one counted event row; a good charger is not slowed."""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from charging.models import ConnectionEvent
from levity.devstack import basic_auth

from .test_security import KEY, provision

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db", "real_hashers")]

ATTEMPTS = 200


async def handshake(port: int, cp: str, password: str, *, source: str) -> tuple[int, str, float]:
    """HTTP status (101: accepted), Retry-After, and seconds the handshake took."""
    started = time.perf_counter()
    try:
        ws = await websockets.connect(
            f"ws://127.0.0.1:{port}/ocpp/{cp}",
            subprotocols=["ocpp1.6"],
            additional_headers=basic_auth(cp, password),
            open_timeout=15,
            local_addr=(source, 0),  # any 127.x.y.z is this host: one address per party
        )
    except InvalidStatus as refused:
        response = refused.response
        return response.status_code, response.headers.get("Retry-After", ""), 0.0
    took = time.perf_counter() - started
    await ws.close()
    return 101, "", took


async def good_charger(port: int, n: int = 20) -> list[float]:
    times = []
    for _ in range(n):
        status, _, took = await handshake(port, "THR-GOOD", KEY, source="127.0.0.1")
        assert status == 101
        times.append(took)
    return times


async def guesser(port: int, cp: str, source: str) -> list[tuple[int, str, float]]:
    return [
        await handshake(port, cp, "wrong-key-0123456789", source=source) for _ in range(ATTEMPTS)
    ]


def test_wrong_keys_back_off_and_do_not_slow_a_good_charger(authorizing_gateway):
    port = authorizing_gateway
    provision("THR-1", KEY)
    provision("THR-GOOD", KEY)

    async def body():
        quiet = await good_charger(port)
        started = time.perf_counter()
        hammered, attack, on_good_id = await asyncio.gather(
            good_charger(port),
            guesser(port, "THR-1", "127.0.0.2"),
            # Someone else guessing the good charger's own key must not lock it out either.
            guesser(port, "THR-GOOD", "127.0.0.3"),
        )
        return quiet, hammered, attack, on_good_id, time.perf_counter() - started

    quiet, hammered, attack, on_good_id, seconds = asyncio.run(asyncio.wait_for(body(), 120))
    for answers in (attack, on_good_id):
        statuses = [status for status, _, _ in answers]
        # OCPP_AUTH_FAILURES (5) wrong keys are checked, then the workers answer 429 and the
        # gateway answers the rest itself until the window (60 s) ends.
        assert statuses == [401] * 5 + [429] * (ATTEMPTS - 5)
        assert all(0 < int(retry) <= 60 for _, retry, _ in answers[5:])
    for cp in ("THR-1", "THR-GOOD"):
        [row] = ConnectionEvent.objects.filter(charge_point_id=cp, kind="refused")
        assert row.count == 5
    p50_quiet, p50_hammered = statistics.median(quiet), statistics.median(hammered)
    print(
        f"\ngood charger handshake p50 {p50_quiet * 1000:.1f} ms quiet, "
        f"{p50_hammered * 1000:.1f} ms while 2 x {ATTEMPTS} wrong keys were answered "
        f"({2 * ATTEMPTS / seconds:.0f}/s); max {max(hammered) * 1000:.1f} ms"
    )
    assert p50_hammered < 2 * p50_quiet + 0.05
