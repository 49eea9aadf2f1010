"""The websocket server: handshake checks, the registry of live connections, graceful shutdown."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import NegotiationError
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from .bus import Bus
from .config import GatewayConfig
from .connection import Connection
from .paths import HEALTH_PATH, BadPath, charge_point_id
from .replies import Replies

log = logging.getLogger("gateway.server")

OCPP16 = Subprotocol("ocpp1.6")


def select_subprotocol(
    connection: ServerConnection, subprotocols: Sequence[Subprotocol]
) -> Subprotocol | None:
    """`ocpp1.6` when offered; none when none is offered (Grizzl-E sends no header); refuse a
    handshake offering only others (OCPP-J 1.6 §3.1.2: the server must not pick another)."""
    if OCPP16 in subprotocols:
        return OCPP16
    if not subprotocols:
        return None
    log.info("refusing subprotocols %s from %s", subprotocols, connection.remote_address)
    raise NegotiationError(f"unsupported subprotocol {', '.join(subprotocols)}; expected ocpp1.6")


class Gateway:
    """Accepts charge points on `config.host:config.port` and relays them over `bus`."""

    def __init__(self, config: GatewayConfig, *, bus: Bus) -> None:
        self.config = config
        self.bus = bus
        self.replies = Replies()
        self.connections: dict[str, Connection] = {}  # by charge point id: the newest wins
        self._forwarders: set[asyncio.Task[None]] = set()
        self._server: Server | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when configured with port 0)."""
        if self._server is None:
            raise RuntimeError("gateway not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        await self.bus.start(self._on_reply)
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            select_subprotocol=select_subprotocol,
            ping_interval=self.config.keepalive_interval,
            ping_timeout=self.config.keepalive_timeout,
            max_size=self.config.max_frame_size,
        )
        log.info(
            "gateway %s listening on ws://%s:%d (replies on %s)",
            self.config.gateway_id,
            self.config.host,
            self.port,
            self.bus.reply_to,
        )

    async def stop(self) -> None:
        """Stop accepting, close sockets with 1001, let forwarders deliver the last events, then
        close the bus; all within `drain_timeout`, after which undelivered events are dropped."""
        if self._server is not None:
            self._server.close()  # also closes open websockets with 1001 (going away)
        try:
            async with asyncio.timeout(self.config.drain_timeout):
                if self._server is not None:
                    await self._server.wait_closed()  # every handler has returned
                while pending := {task for task in self._forwarders if not task.done()}:
                    await asyncio.wait(pending)
        except TimeoutError:
            late = {task for task in self._forwarders if not task.done()}
            log.warning("gave up delivering the last events of %d connections", len(late))
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        await self.bus.close()
        log.info("gateway %s stopped", self.config.gateway_id)

    async def _on_reply(self, reply: dict[str, Any]) -> None:
        self.replies.resolve(reply)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path.split("?", 1)[0] == HEALTH_PATH:
            return self._health(connection)
        try:
            charge_point_id(request.path)
        except BadPath as error:
            log.info("refusing %s from %s: %s", request.path, connection.remote_address, error)
            return connection.respond(error.status, error.message + "\n")
        return None

    def _health(self, connection: ServerConnection) -> Response:
        body = {
            "status": "ok",
            "gateway": self.config.gateway_id,
            "connections": len(self.connections),
            # Closed connections whose last events are still on their way to the workers.
            "draining": sum(1 for task in self._forwarders if not task.done()),
        }
        response = connection.respond(HTTPStatus.OK, json.dumps(body) + "\n")
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
        return response

    async def _handle(self, websocket: ServerConnection) -> None:
        assert websocket.request is not None  # the handshake is done
        connection = Connection(
            websocket,
            charge_point_id=charge_point_id(websocket.request.path),
            bus=self.bus,
            replies=self.replies,
            gateway_id=self.config.gateway_id,
            reply_timeout=self.config.reply_timeout,
        )
        previous = self.connections.get(connection.charge_point_id)
        self.connections[connection.charge_point_id] = connection
        log.info("%r connected (subprotocol %s)", connection, websocket.subprotocol)
        if previous is not None:
            log.info("%r replaces %r", connection, previous)
            self._spawn(previous.replace(), f"replace {previous!r}")
        try:
            await connection.serve()
        except Exception:
            log.exception("%r failed", connection)
        finally:
            if self.connections.get(connection.charge_point_id) is connection:
                del self.connections[connection.charge_point_id]
            if connection.forwarder is not None:
                self._forwarders.add(connection.forwarder)
                connection.forwarder.add_done_callback(self._forwarders.discard)
            log.info("%r disconnected", connection)

    def _spawn(self, coroutine: Any, name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._forwarders.add(task)  # awaited on shutdown like the forwarders
        task.add_done_callback(self._forwarders.discard)
        task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s failed", task.get_name(), exc_info=task.exception())
