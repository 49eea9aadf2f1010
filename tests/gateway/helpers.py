"""A fake in-memory Bus and a running gateway on port 0, for the gateway's tests."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from charging.protocol import envelope as env
from gateway.bus import Bus
from gateway.config import GatewayConfig
from gateway.server import Gateway

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")

OCPP16 = [Subprotocol("ocpp1.6")]

TEST_CONFIG = GatewayConfig(
    host="127.0.0.1",
    port=0,
    gateway_id="test-gw",
    ping_interval=None,
    reply_timeout=5.0,
    drain_timeout=0.5,
    presence_ttl=0,  # tests/gateway/test_presence.py turns it on
)


def run(coroutine: Coroutine[Any, Any, Any], *, timeout: float = 10.0) -> Any:
    """Run an async test body, bounded in time."""

    async def bounded() -> Any:
        async with asyncio.timeout(timeout):
            return await coroutine

    return asyncio.run(bounded())


async def eventually(predicate: Callable[[], object], *, within: float = 2.0) -> None:
    """Poll state the code under test owns (it offers no event to wait on); fail after `within`."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


class FakeBus:
    """Records published envelopes and bindings; the test answers events with `reply` (or
    `auto_reply`) and sends commands with `deliver`."""

    reply_to = "levity.gw.test-gw"

    def __init__(self, *, auto_reply: bool = False, bind_delay: float = 0.0) -> None:
        self.auto_reply = auto_reply
        self.bind_delay = bind_delay
        self.fail_publish = False
        self.fail_bind = False
        self.events: list[env.Inbound] = []
        self.bound: set[str] = set()
        # ("bind", cp), ("unbind", cp) and ("publish", kind), in the order they completed.
        self.log: list[tuple[str, str]] = []
        self.closed = False
        self._published: asyncio.Queue[env.Inbound] = asyncio.Queue()
        self._on_message: Callable[[dict[str, Any]], Awaitable[None]] | None = None

    async def start(self, on_message: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self._on_message = on_message

    async def bind(self, charge_point_id: str) -> None:
        await asyncio.sleep(self.bind_delay)
        if self.fail_bind:
            raise ConnectionError("broker unreachable")
        self.bound.add(charge_point_id)
        self.log.append(("bind", charge_point_id))

    async def unbind(self, charge_point_id: str) -> None:
        self.bound.discard(charge_point_id)
        self.log.append(("unbind", charge_point_id))

    async def deliver(self, message: dict[str, Any]) -> None:
        """A message arriving on the gateway's queue (a command, say)."""
        assert self._on_message is not None
        await self._on_message(message)

    async def publish(self, envelope: env.Inbound) -> None:
        if self.fail_publish:
            raise ConnectionError("broker unreachable")
        self.events.append(envelope)
        self.log.append(("publish", envelope["kind"]))
        self._published.put_nowait(envelope)
        if self.auto_reply:
            await self.reply(envelope)

    async def reply(
        self,
        envelope: env.Inbound,
        *,
        send: str | None = None,
        calls: list[env.OutboundCall] | None = None,
    ) -> None:
        assert self._on_message is not None
        await self._on_message(dict(env.reply(envelope, send=send, calls=calls)))

    async def next(self, *, within: float = 2.0) -> env.Inbound:
        """The next published envelope; fails the test if none comes `within` seconds."""
        async with asyncio.timeout(within):
            return await self._published.get()

    async def nothing_published(self, *, within: float = 0.3) -> bool:
        await asyncio.sleep(within)
        return self._published.empty()

    async def close(self) -> None:
        self.closed = True


def outbound_call(unique_id: str, *, delay: float = 0.0, timeout: float = 5.0) -> env.OutboundCall:
    return {
        "unique_id": unique_id,
        "action": "RemoteStartTransaction",
        "text": f'[2,"{unique_id}","RemoteStartTransaction",{{"idTag":"anonymous"}}]',
        "delay": delay,
        "timeout": timeout,
    }


@contextlib.asynccontextmanager
async def running_gateway(bus: Bus, **options: Any) -> AsyncIterator[tuple[Gateway, str]]:
    """A started gateway on a free port and its base URL `ws://127.0.0.1:<port>`."""
    gateway = Gateway(dataclasses.replace(TEST_CONFIG, **options), bus=bus)
    await gateway.start()
    try:
        yield gateway, f"ws://127.0.0.1:{gateway.port}"
    finally:
        await gateway.stop()


async def http_get(url: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """A plain HTTP/1.1 GET (no websocket upgrade): status, lower-cased headers, body."""
    host, port = url.removeprefix("ws://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


async def open_client(url: str, cp: str = "CP-1") -> ClientConnection:
    """A real websocket client offering `ocpp1.6`, with ping off (the tests time everything)."""
    return await connect(f"{url}/ocpp/{cp}", subprotocols=OCPP16, ping_interval=None)


async def recv(client: ClientConnection, *, within: float = 2.0) -> str:
    async with asyncio.timeout(within):
        message = await client.recv()
    assert isinstance(message, str)
    return message


async def nothing_received(client: ClientConnection, *, within: float = 0.3) -> bool:
    try:
        async with asyncio.timeout(within):
            await client.recv()
    except TimeoutError:
        return True
    return False
