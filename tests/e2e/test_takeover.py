"""A second connection with the same charge point id (issue 14, point 8), on real gateways,
RabbitMQ, Celery worker and PostgreSQL: with a key, only a socket that authenticated takes over;
without keys the takeover still happens (a reconnecting charger) but is logged with both peers'
addresses and counted in the gateway's /metrics."""

from __future__ import annotations

import asyncio
import re
import urllib.request

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from levity.devstack import basic_auth, raw_exchange, wait_until

from .test_security import KEY, provision

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db", "real_hashers")]

HEARTBEAT = '[2, "hb-{}", "Heartbeat", {{}}]'


def takeovers(port: int, authenticated: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    pattern = rf'^levity_gateway_takeovers_total{{authenticated="{authenticated}"}} (\S+)$'
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def connect(port: int, cp: str, *, password: str | None = None, source: str = "127.0.0.1"):
    return await websockets.connect(
        f"ws://127.0.0.1:{port}/ocpp/{cp}",
        subprotocols=["ocpp1.6"],
        additional_headers=basic_auth(cp, password) if password else None,
        ping_interval=None,
        open_timeout=15,
        local_addr=(source, 0),
    )


def test_with_a_key_only_an_authenticated_socket_takes_over(authorizing_gateway):
    port = authorizing_gateway
    provision("TKO-1", KEY)
    before = takeovers(port, "true")

    async def body():
        real = await connect(port, "TKO-1", password=KEY)
        for password in (None, "wrong-key-0123456789"):
            with pytest.raises(InvalidStatus) as refused:
                await connect(port, "TKO-1", password=password, source="127.0.0.6")
            assert refused.value.response.status_code == 401
        # The real charger was not kicked off: still served.
        assert (await raw_exchange(real, HEARTBEAT.format(1)))[0] == 3
        # It reconnecting with its key does take over (newest wins).
        again = await connect(port, "TKO-1", password=KEY)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(real.recv(), 10)
        assert real.close_code == 1000
        assert (await raw_exchange(again, HEARTBEAT.format(2)))[0] == 3
        await again.close()

    asyncio.run(asyncio.wait_for(body(), 60))
    assert takeovers(port, "true") == before + 1


def test_without_keys_a_takeover_is_logged_with_both_peers_and_counted(stack):
    port = stack.port
    provision("TKO-2", None)
    before = takeovers(port, "false")

    async def body():
        first = await connect(port, "TKO-2", source="127.0.0.7")
        second = await connect(port, "TKO-2", source="127.0.0.8")
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(first.recv(), 10)
        await second.close()

    asyncio.run(asyncio.wait_for(body(), 60))
    assert takeovers(port, "false") == before + 1
    line = wait_until(
        lambda: [
            line
            for line in stack.gateway.log().splitlines()
            if "cp=TKO-2" in line and "without credentials" in line
        ],
        timeout=10,
        what="the takeover's warning",
    )[0]
    assert "WARNING" in line and "from 127.0.0.8:" in line and "from 127.0.0.7:" in line
