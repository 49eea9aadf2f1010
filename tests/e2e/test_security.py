"""Security profile 1 through the whole stack: a gateway started with `--authorize` asks the
Celery worker (RabbitMQ, PostgreSQL) at each handshake; HTTP Basic with the charge point's
authorization key, and its rotation through ChangeConfiguration AuthorizationKey."""

from __future__ import annotations

import asyncio
import time

import pytest
import websockets
from django.db import connections
from ocpp.v16 import call
from websockets.exceptions import InvalidStatus

from charging import admission, commands
from charging.models import ChargePoint, ConnectionEvent
from levity.devstack import basic_auth, charger, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db", "real_hashers")]

KEY = "4F43415F4F4354545F61646D696E5F74657374"  # the OCTT's TC_073 value
NEW_KEY = "0123456789abcdef0123456789abcdef01234567"


async def boot(cp):
    return await cp.call(call.BootNotification(charge_point_vendor="Acme", charge_point_model="1"))


def provision(cp_id: str, key: str | None) -> None:
    try:
        admission.charge_point_provision(charge_point_id=cp_id, key=key)
    finally:
        connections.close_all()


async def status_of_refusal(port: int, cp_id: str, headers: dict[str, str] | None) -> InvalidStatus:
    with pytest.raises(InvalidStatus) as caught:
        await websockets.connect(
            f"ws://127.0.0.1:{port}/ocpp/{cp_id}",
            subprotocols=["ocpp1.6"],
            additional_headers=headers,
            open_timeout=15,
        )
    return caught.value


def test_basic_auth_at_the_handshake(authorizing_gateway):
    port = authorizing_gateway
    provision("SEC-1", KEY)

    async def body():
        missing = await status_of_refusal(port, "SEC-1", None)
        assert missing.response.status_code == 401
        assert missing.response.headers["WWW-Authenticate"].startswith('Basic realm="ocpp"')
        wrong = await status_of_refusal(port, "SEC-1", basic_auth("SEC-1", "x" * 20))
        assert wrong.response.status_code == 401
        async with charger(port, "SEC-1", password=KEY.lower()) as cp:
            assert (await boot(cp)).status == "Accepted"
        # Unknown charge points are accepted under the default policy ("accept").
        async with charger(port, "SEC-NEW") as cp:
            assert (await boot(cp)).status == "Accepted"

    asyncio.run(asyncio.wait_for(body(), 60))
    refused = ConnectionEvent.objects.filter(charge_point_id="SEC-1", kind="refused")
    assert list(refused.values_list("reason", flat=True)) == ["wrong authorization key"]


def test_key_rotation_through_change_configuration(authorizing_gateway):
    port = authorizing_gateway
    provision("SEC-2", KEY)

    def rotate() -> str:
        try:
            return commands.change_authorization_key("SEC-2", key=NEW_KEY, wait=20)
        finally:
            connections.close_all()

    async def body():
        async with charger(port, "SEC-2", password=KEY) as cp:
            await boot(cp)
            await asyncio.to_thread(
                wait_until,
                lambda: ChargePoint.objects.filter(id="SEC-2", connected=True).exists(),
                timeout=20,
                what="SEC-2 connected",
            )
            assert await asyncio.to_thread(rotate) == NEW_KEY
            [received] = [r for r in cp.received if r.action == "ChangeConfiguration"]
            assert received.payload == {"key": "AuthorizationKey", "value": NEW_KEY}
        old = await status_of_refusal(port, "SEC-2", basic_auth("SEC-2", KEY))
        assert old.response.status_code == 401
        async with charger(port, "SEC-2", password=NEW_KEY) as cp:
            assert (await boot(cp)).status == "Accepted"

    asyncio.run(asyncio.wait_for(body(), 90))


def test_handshake_check_latency(authorizing_gateway, stack):
    """Not a benchmark: keeps the cost of `--authorize` in sight (printed with -s)."""
    port = authorizing_gateway
    provision("SEC-3", KEY)
    provision("SEC-4", None)

    async def connect_times(
        to_port: int, password: str | None, n: int = 20, cp: str = "SEC-3"
    ) -> list[float]:
        times = []
        for _ in range(n):
            started = time.perf_counter()
            ws = await websockets.connect(
                f"ws://127.0.0.1:{to_port}/ocpp/{cp}",
                subprotocols=["ocpp1.6"],
                additional_headers=basic_auth(cp, password) if password else None,
                open_timeout=15,
            )
            times.append(time.perf_counter() - started)
            await ws.close()
        return sorted(times)

    runs = {
        "--authorize, PBKDF2 key": asyncio.run(connect_times(port, KEY)),
        "--authorize, no key": asyncio.run(connect_times(port, None, cp="SEC-4")),
        "without --authorize": asyncio.run(connect_times(stack.port, None, cp="SEC-4")),
    }
    for name, times in runs.items():
        p50, worst = times[len(times) // 2] * 1000, times[-1] * 1000
        print(f"handshake {name}: p50 {p50:.1f} ms, max {worst:.1f} ms")
    assert runs["--authorize, PBKDF2 key"][10] < 2.0
