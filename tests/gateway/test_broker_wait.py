"""A gateway started while its broker is unreachable listens, says so on /health and in one
warning (not one per attempt), refuses charge points with 503, and serves once the broker is back."""

import asyncio
import contextlib
import dataclasses
import json
import logging
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from yarl import URL

from gateway import server
from gateway.bus import AmqpBus
from gateway.server import Gateway

from .helpers import AMQP_URL, OCPP16, TEST_CONFIG, eventually, http_get, run
from .test_amqp_bus import delete_exchange, private_names


class BrokerStandIn:
    """A TCP port in front of RabbitMQ: it drops every connection (counting them) until
    `forward` is set, then relays to the real broker."""

    def __init__(self) -> None:
        self.dropped = 0
        self.forward = False
        self._target = URL(AMQP_URL)
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.forward:
            self.dropped += 1
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(
            self._target.host, self._target.port or 5672
        )

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()


def test_a_gateway_waits_for_its_broker_visibly(monkeypatch, caplog) -> None:
    monkeypatch.setattr(server, "BUS_RETRY_SECONDS", 0.05)
    exchange_name, cp = private_names()

    async def scenario() -> None:
        broker = BrokerStandIn()
        port = await broker.start()
        url = URL(AMQP_URL).with_host("127.0.0.1").with_port(port)
        bus = AmqpBus(
            str(url), gateway_id=f"wait-{uuid.uuid4().hex[:8]}", exchange=exchange_name, queue=None
        )
        gateway = Gateway(dataclasses.replace(TEST_CONFIG, port=0), bus=bus)
        starting = asyncio.create_task(gateway.start())
        try:
            await eventually(lambda: gateway._server is not None)
            base = f"ws://127.0.0.1:{gateway.port}"
            await eventually(lambda: broker.dropped >= 3, within=10)
            status, _, body = await http_get(base, "/health")
            assert status == 503
            assert json.loads(body)["status"] == "broker unreachable"
            with pytest.raises(InvalidStatus) as refused:
                async with connect(f"{base}/ocpp/{cp}", subprotocols=OCPP16):
                    pass
            assert refused.value.response.status_code == 503
            assert not starting.done()

            broker.forward = True
            async with asyncio.timeout(10):
                await starting
            status, _, body = await http_get(base, "/health")
            assert status == 200 and json.loads(body)["status"] == "ok"
            async with connect(f"{base}/ocpp/{cp}", subprotocols=OCPP16) as client:
                assert client.protocol.state.name == "OPEN"
        finally:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
            await gateway.stop()
            await broker.close()
            await delete_exchange(exchange_name)

    with caplog.at_level(logging.INFO):
        run(scenario(), timeout=30)
    warnings = [r for r in caplog.records if "broker unreachable (" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelname == "WARNING"
    assert "retrying every" in warnings[0].getMessage()
    # aiormq's and aio-pika's own line per failed attempt stay out of the log.
    assert not [r for r in caplog.records if r.name.startswith(("aiormq", "aio_pika"))]
    assert any("broker reachable after" in r.getMessage() for r in caplog.records)
