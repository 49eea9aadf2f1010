"""The entry points: `run()` with an injected bus, and `python -m gateway` as its own process."""

import asyncio
import json
import os
import re
import signal
import socket
import sys
import uuid
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway.cli import run as run_gateway
from gateway.config import GatewayConfig

from .helpers import AMQP_URL, OCPP16, FakeBus, http_get, run

PROJECT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_for_health(url: str) -> None:
    while True:
        try:
            await http_get(url, "/health")
            return
        except OSError:
            await asyncio.sleep(0.05)


def test_run_serves_the_injected_bus_until_sigterm() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        port = free_port()
        config = GatewayConfig(host="127.0.0.1", port=port, gateway_id="cli-gw", ping_interval=0)
        server = asyncio.create_task(run_gateway(config, bus=bus))
        url = f"ws://127.0.0.1:{port}"
        await wait_for_health(url)
        async with connect(f"{url}/ocpp/CP-1", subprotocols=OCPP16) as client:
            assert (await bus.next())["kind"] == "connect"
            os.kill(os.getpid(), signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                await client.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        await server
        assert (await bus.next())["kind"] == "disconnect"
        assert bus.closed

    run(scenario())


def test_python_m_gateway_logs_the_bound_port_and_stops_on_sigterm() -> None:
    gateway_id = f"test-cli-{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--ping-interval",
            "0",
            "--gateway-id",
            gateway_id,
            "--amqp-url",
            AMQP_URL,
            cwd=PROJECT,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        try:
            port = None
            while port is None:
                line = (await process.stderr.readline()).decode()
                assert line, "gateway exited before listening"
                found = re.search(r"listening on ws://127\.0\.0\.1:(\d+)", line)
                port = int(found.group(1)) if found else None
            assert port != 0
            # No charger connects: that would publish to the real `levity.cp` exchange.
            status, _, body = await http_get(f"ws://127.0.0.1:{port}", "/health")
            assert status == 200 and json.loads(body)["gateway"] == gateway_id
            process.send_signal(signal.SIGTERM)
            rest = (await process.stderr.read()).decode()
            assert await process.wait() == 0
            assert f"gateway {gateway_id} stopped" in rest
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    run(scenario(), timeout=20)
