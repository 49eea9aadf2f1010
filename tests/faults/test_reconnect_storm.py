"""One charge point id connecting again and again while its older sockets are still open, on
two gateways in turn: the newest connection always wins."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from django.db import connection

from charging.models import ChargePoint, ConnectionEvent
from levity.devstack import wait_until

from .harness import quiet

pytestmark = [pytest.mark.faults, pytest.mark.timeout(180)]

RECONNECTS = 100
CP_ID = "FAULT-STORM"
CLOSE_WAIT = 10.0  # seconds an older socket may take to be closed by the server


def test_same_id_reconnect_storm_across_two_gateways(faults):
    faults.start_worker()
    ports = [
        faults.start_gateway(f"gateway-{n}", extra=["--gateway-id", f"storm-gw-{n}"])[1]
        for n in range(2)
    ]
    closes: list[tuple[int, int | None, str, float]] = []  # (index, code, reason, seconds)

    async def storm() -> None:
        sockets: list = []
        try:
            for index in range(RECONNECTS):
                port = ports[index % 2]
                ws = await websockets.connect(
                    f"ws://127.0.0.1:{port}/ocpp/{CP_ID}",
                    subprotocols=["ocpp1.6"],
                    ping_interval=None,
                    open_timeout=10,
                )
                opened = time.monotonic()
                sockets.append(ws)
                # The newest connection is served: its CALL is answered.
                await ws.send(json.dumps([2, f"hb-{index}", "Heartbeat", {}]))
                answer = json.loads(await asyncio.wait_for(ws.recv(), 15))
                assert answer[:2] == [3, f"hb-{index}"], answer
                if index:
                    # ... and the one before it is closed by the server, whichever gateway
                    # holds it.
                    previous = sockets[index - 1]
                    await asyncio.wait_for(previous.wait_closed(), CLOSE_WAIT)
                    closes.append(
                        (
                            index - 1,
                            previous.close_code,
                            previous.close_reason,
                            time.monotonic() - opened,
                        )
                    )
            # Only the newest is still open.
            assert [ws.close_code for ws in sockets[:-1] if ws.close_code is None] == []
        finally:
            for ws in sockets[:-1]:
                await ws.close()
        await asyncio.to_thread(_check_connected)
        await sockets[-1].close()

    def _check_connected() -> None:
        try:
            _check_connected_in_thread()
        finally:
            connection.close()  # this thread's own

    def _check_connected_in_thread() -> None:
        last = wait_until(
            lambda: (
                ConnectionEvent.objects.filter(
                    charge_point_id=CP_ID, kind=ConnectionEvent.Kind.CONNECT
                ).count()
                == RECONNECTS
                and ConnectionEvent.objects.filter(
                    charge_point_id=CP_ID, kind=ConnectionEvent.Kind.CONNECT
                )
                .order_by("at", "id")
                .last()
            ),
            timeout=30,
            what="every connect to be processed",
        )
        assert last.gateway_id == f"storm-gw-{(RECONNECTS - 1) % 2}"
        # Every older connection's disconnect processed, the charge point still on the newest.
        wait_until(
            lambda: (
                ConnectionEvent.objects.filter(
                    charge_point_id=CP_ID, kind=ConnectionEvent.Kind.DISCONNECT
                ).count()
                == RECONNECTS - 1
            ),
            timeout=30,
            what="the older connections' disconnects",
        )
        charge_point = ChargePoint.objects.get(id=CP_ID)
        assert charge_point.connected
        assert charge_point.connection_id == last.connection_id
        assert charge_point.gateway_id == last.gateway_id

    started = time.monotonic()
    asyncio.run(storm())
    elapsed = time.monotonic() - started
    for port in ports:
        wait_until(lambda port=port: quiet(port), timeout=30, what="the gateways to go quiet")
    charge_point = ChargePoint.objects.get(id=CP_ID)
    assert not charge_point.connected

    codes = {(code, reason) for _, code, reason, _ in closes}
    slowest = max(seconds for *_, seconds in closes)
    print(
        f"\n{RECONNECTS} reconnects over 2 gateways in {elapsed:.1f}s; older socket closed "
        f"at most {slowest:.2f}s after the newer one opened; close codes {codes}"
    )
    assert len(closes) == RECONNECTS - 1
    assert codes == {(1000, "replaced by a newer connection")}
