"""The websocket server: handshake checks, the registry of live connections, graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import NegotiationError
from websockets.extensions.base import ServerExtensionFactory
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from charging.protocol import envelope as env

from . import auth
from .bus import Bus
from .config import GatewayConfig
from .connection import Connection
from .limits import ActivityConnection
from .metrics import METRICS_CONTENT_TYPE, METRICS_PATH, GatewayMetrics
from .paths import HEALTH_PATH, BadPath, charge_point_id
from .presence import Presence
from .replies import Replies
from .throttle import HandshakeThrottle

log = logging.getLogger("gateway.server")

OCPP16 = Subprotocol("ocpp1.6")
# websockets' limit on the whole opening handshake (TLS excluded)...
OPEN_TIMEOUT = 10.0
# ...within which the workers' answer to a `handshake` event must come (else 503).
AUTHORIZE_TIMEOUT = 8.0
# Starting against an unreachable broker: try every BUS_RETRY_SECONDS, log every BUS_RETRY_LOG_EVERY.
BUS_RETRY_SECONDS = 1.0
BUS_RETRY_LOG_EVERY = 30.0
NOISY_WHILE_CONNECTING = ("aiormq.connection", "aio_pika.robust_connection")


def select_subprotocol(
    connection: ServerConnection, subprotocols: Sequence[Subprotocol]
) -> Subprotocol | None:
    """`ocpp1.6` when offered; none when none is offered (Grizzl-E sends no header); refuse a
    handshake offering only others (OCPP-J 1.6 §3.1.2: the server must not pick another)."""
    if OCPP16 in subprotocols:
        return OCPP16
    if not subprotocols:
        return None
    path = connection.request.path if connection.request is not None else ""
    try:
        charge_point = charge_point_id(path)
    except BadPath:
        charge_point = "-"
    log.info(
        "cp=%s refused: subprotocols %s from %s",
        charge_point,
        ", ".join(subprotocols),
        _remote(connection),
    )
    raise NegotiationError(f"unsupported subprotocol {', '.join(subprotocols)}; expected ocpp1.6")


class Gateway:
    """Accepts charge points on `config.host:config.port` and relays them over `bus`.

    While it holds a charge point, the bus is bound for its commands (docs/envelope.md,
    "Commands"); a command is queued on that connection's outbound FIFO.
    """

    def __init__(self, config: GatewayConfig, *, bus: Bus) -> None:
        self.config = config
        self.bus = bus
        self.replies = Replies()
        self.connections: dict[str, Connection] = {}  # by charge point id: the newest wins
        self.metrics = GatewayMetrics(
            connections=lambda: len(self.connections),
            outstanding=lambda: sum(c.has_outstanding_call for c in self.connections.values()),
        )
        self.throttle = HandshakeThrottle(
            failures=config.auth_failures, window=config.auth_failure_window
        )
        self._internal = [ipaddress.ip_network(n) for n in config.internal_networks]
        self._forwarders: set[asyncio.Task[None]] = set()
        self._server: Server | None = None
        self._presence: Presence | None = None
        self._stopping = False
        self._bus_error: str | None = "not started yet"  # None once the bus is up
        # Per charge point: serialises bind/unbind so an old connection's unbind cannot undo a
        # newer connection's bind. (lock, [users]); the entry goes when nobody uses it.
        self._binding_locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    @property
    def port(self) -> int:
        """The bound port (the real one when configured with port 0)."""
        if self._server is None:
            raise RuntimeError("gateway not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen, then start the bus, retrying while the broker is unreachable (/health answers
        503 and charge points are refused 503 meanwhile); returns once both are up."""
        await self._serve()
        await self._start_bus()
        if self.config.presence_ttl > 0 and self.config.redis_url:
            self._presence = Presence(
                self.config.redis_url,
                gateway_id=self.config.gateway_id,
                reply_to=self.bus.reply_to,
                ttl=self.config.presence_ttl,
                connections=lambda: len(self.connections),
            )
            await self._presence.start()
        log.info(
            "gateway %s listening on %s://%s:%d (replies on %s)%s",
            self.config.gateway_id,
            self.config.scheme,
            self.config.host,
            self.port,
            self.bus.reply_to,
            "; handshakes checked by the workers" if self.config.authorize else "",
        )
        if not self.config.authorize:
            log.warning(
                "SECURITY: handshakes are not checked (no --authorize): any client may connect "
                "as any charge point id, keys and the unknown charge point policy are ignored"
            )

    async def _start_bus(self) -> None:
        """One warning at the first failure, then one every BUS_RETRY_LOG_EVERY seconds."""
        loop = asyncio.get_running_loop()
        failures, logged_at = 0, -BUS_RETRY_LOG_EVERY
        with _quiet(*NOISY_WHILE_CONNECTING):
            while True:
                try:
                    await self.bus.start(self._on_message)
                    break
                except OSError as error:  # aiormq's AMQPConnectionError included
                    failures += 1
                    self._bus_error = str(error) or type(error).__name__
                    if loop.time() - logged_at >= BUS_RETRY_LOG_EVERY:
                        logged_at = loop.time()
                        log.warning(
                            "broker unreachable (%s), attempt %d; retrying every %.0f s, "
                            "/health answers 503 until it is back",
                            self._bus_error,
                            failures,
                            BUS_RETRY_SECONDS,
                        )
                    await asyncio.sleep(BUS_RETRY_SECONDS)
        if failures:
            log.info("broker reachable after %d failed attempts", failures)
        self._bus_error = None

    async def _serve(self) -> None:
        tls = (
            auth.server_ssl_context(
                cert=self.config.tls_cert,
                key=self.config.tls_key,
                client_ca=self.config.tls_client_ca,
            )
            if self.config.tls_cert
            else None
        )
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            ssl=tls,
            open_timeout=OPEN_TIMEOUT,
            process_request=self._process_request,
            process_response=self._log_refusal,
            select_subprotocol=self._select_subprotocol,
            ping_interval=self.config.keepalive_interval,
            ping_timeout=self.config.keepalive_timeout,
            max_size=self.config.max_frame_size,
            compression=None,  # configured below, or off
            extensions=_compression(self.config.compression),
            create_connection=ActivityConnection,  # notes pongs too, for the idle timeout
        )

    async def stop(self) -> None:
        """Stop accepting, close sockets with 1001, let forwarders deliver the last events, then
        close the bus; all within `drain_timeout`, after which undelivered events are dropped."""
        self._stopping = True
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
        if self._presence is not None:
            await self._presence.stop()
        await self.bus.close()
        log.info("gateway %s stopped", self.config.gateway_id)

    async def _on_message(self, message: dict[str, Any]) -> None:
        """A message on this gateway's queue: a Reply (no `type`), a command (`"call"`) or a
        close request (`"close"`)."""
        kind = message.get("type")
        if kind is None:
            self.replies.resolve(message)
        elif kind == "call":
            self._on_call(message)
        elif kind == "close":
            self._on_close(message)
        else:
            log.warning("dropping message of unknown type %.40r", kind)

    def _on_close(self, request: dict[str, Any]) -> None:
        """A newer connection of the charge point won on another gateway (docs/envelope.md,
        "Close"): close ours, if it is still the one named."""
        connection = self.connections.get(request.get("cp"))  # type: ignore[arg-type]
        if connection is None or connection.id != request.get("conn"):
            log.debug(
                "cp=%s close of conn %.8s: not held here", request.get("cp"), request.get("conn")
            )
            return
        log.info("%s replaced by a newer connection on another gateway", connection)
        self._spawn(connection.replace(), f"replace {connection!r}")

    def _on_call(self, request: dict[str, Any]) -> None:
        charge_point = request.get("cp")
        call = request.get("call")
        if not (
            isinstance(charge_point, str)
            and isinstance(call, dict)
            and isinstance(call.get("unique_id"), str)
            and isinstance(call.get("text"), str)
        ):
            log.warning("dropping malformed call request %.300r", request)
            return
        unique_id = call["unique_id"]
        connection = self.connections.get(charge_point)
        if connection is not None and connection.queue_call(call):  # type: ignore[arg-type]
            log.info("%s: queued command %s %s", connection, call.get("action"), unique_id)
            return
        # Routed here, but the socket has gone since (the unbind is on its way): say so on the
        # charge point's ordered route so the worker can end the call `offline`.
        log.info("cp=%s command %s: not connected here", charge_point, unique_id)
        event = env.inbound(
            "call_offline",
            cp=charge_point,
            conn="",
            gateway=self.config.gateway_id,
            reply_to=self.bus.reply_to,
            unique_id=unique_id,
        )
        self._spawn(self._publish_offline(event), f"call_offline {charge_point} {unique_id}")

    async def _publish_offline(self, event: env.Inbound) -> None:
        # Nobody waits for the worker's reply to it: Replies drops that as unknown.
        try:
            async with asyncio.timeout(self.config.reply_timeout):
                await self.bus.publish(event)
        except Exception:
            self.metrics.publish_failures.labels(event["kind"]).inc()
            log.exception("cp=%s publishing call_offline failed", event["cp"])

    @contextlib.asynccontextmanager
    async def _binding(self, charge_point: str) -> AsyncIterator[None]:
        lock, users = self._binding_locks.setdefault(charge_point, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._binding_locks[charge_point]

    async def _bind(self, connection: Connection) -> None:
        try:
            async with self._binding(connection.charge_point_id):
                await self.bus.bind(connection.charge_point_id)
        except Exception as error:  # noqa: BLE001 - one line, not a traceback per charger
            # The charger is still served; its commands come back unroutable (`offline`).
            log.warning("%s: binding for commands failed: %r", connection, error)

    async def _unbind(self, charge_point: str) -> None:
        if self._stopping:
            return  # the exclusive queue, bindings included, goes with the bus
        try:
            async with self._binding(charge_point):
                if charge_point in self.connections:
                    return  # a newer connection holds it (and has bound, or is binding)
                await self.bus.unbind(charge_point)
        except Exception as error:  # noqa: BLE001 - one line, not a traceback per charger
            log.warning("cp=%s unbinding commands failed: %r", charge_point, error)

    def _select_subprotocol(
        self, connection: ServerConnection, subprotocols: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        try:
            return select_subprotocol(connection, subprotocols)
        except NegotiationError:
            self.metrics.refusals.labels("subprotocol").inc()
            raise

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path in (HEALTH_PATH, METRICS_PATH) and not self._may_see_status(connection, request):
            return connection.respond(
                HTTPStatus.FORBIDDEN, "internal addresses or METRICS_TOKEN only\n"
            )
        if path == HEALTH_PATH:
            return self._health(connection)
        if path == METRICS_PATH:
            return self._metrics(connection)
        if self._bus_error is not None:
            self.metrics.refusals.labels("unavailable").inc()
            log.info("cp=- refused: 503 broker unreachable from %s", _remote(connection))
            return connection.respond(
                HTTPStatus.SERVICE_UNAVAILABLE, "The broker is unreachable; retry later\n"
            )
        try:
            charge_point = charge_point_id(request.path)
        except BadPath as error:
            reason = "unknown_path" if error.status == HTTPStatus.NOT_FOUND else "bad_id"
            self.metrics.refusals.labels(reason).inc()
            log.info(
                "cp=- refused: %d %s for %.100r from %s",
                error.status,
                error.message,
                request.path,
                _remote(connection),
            )
            return connection.respond(error.status, error.message + "\n")
        try:
            self._check_client_certificate(connection, request, charge_point)
            if self.config.authorize:
                await self._authorize(connection, request, charge_point)
        except auth.Refusal as refusal:
            self.metrics.refusals.labels(refusal.reason).inc()
            # A flood of throttled attempts must not flood the log as well.
            log.log(
                logging.DEBUG if refusal.reason == "throttled" else logging.INFO,
                "cp=%s refused: %d %s from %s",
                charge_point,
                refusal.status,
                refusal.message,
                _remote(connection),
            )
            response = connection.respond(refusal.status, refusal.message + "\n")
            if refusal.asks_for_credentials:
                response.headers["WWW-Authenticate"] = auth.WWW_AUTHENTICATE
            if refusal.retry_after:
                response.headers["Retry-After"] = str(refusal.retry_after)
            return response
        return None

    def _log_refusal(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> None:
        """One line for the refusals websockets makes itself (no Upgrade header, a bad key, no
        ocpp1.6 offered); ours are logged where `_process_request` makes them."""
        error = connection.protocol.handshake_exc
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS and error is not None:
            log.info(
                "cp=- refused: %d %s for %.100r from %s",
                response.status_code,
                error,
                request.path,
                _remote(connection),
            )

    def _check_client_certificate(
        self, connection: ServerConnection, request: Request, charge_point: str
    ) -> None:
        """Security profile 3, when configured: the verified client certificate (ours, or the
        one a TLS-terminating proxy passes in the trusted header) must name the charge point."""
        header = self.config.trust_proxy_client_cert_header
        if header:
            subject = request.headers.get(header, "")
            auth.check_client_certificate(auth.common_name(subject), charge_point_id=charge_point)
        elif self.config.tls_cert and self.config.tls_client_ca:
            ssl_object = connection.transport.get_extra_info("ssl_object")
            auth.check_client_certificate(
                auth.peer_common_name(ssl_object), charge_point_id=charge_point
            )

    async def _authorize(
        self, connection: ServerConnection, request: Request, charge_point: str
    ) -> None:
        """Ask the workers whether this charge point may connect with these credentials
        (docs/envelope.md, `handshake`); raises Refusal. No answer in time: 503. An address
        with too many refusals lately is answered 429 without asking (gateway/throttle.py)."""
        host = _host(connection)
        if wait := self.throttle.retry_after(host, charge_point):
            raise auth.Refusal(
                HTTPStatus.TOO_MANY_REQUESTS,
                "Too many failed attempts",
                reason="throttled",
                retry_after=wait,
            )
        try:
            credentials = auth.basic_credentials(request.headers, charge_point_id=charge_point)
        except auth.Refusal:
            self.throttle.failed(host)
            raise
        event = env.inbound(
            "handshake",
            cp=charge_point,
            conn="",
            gateway=self.config.gateway_id,
            reply_to=self.bus.reply_to,
            remote=_remote(connection),
            username=credentials.username if credentials else None,
            password=credentials.password if credentials else None,
        )
        waiting = self.replies.expect(event["id"])
        try:
            async with asyncio.timeout(min(self.config.reply_timeout, AUTHORIZE_TIMEOUT)):
                await self.bus.publish(event)
                answer = await waiting
        except TimeoutError:
            self.metrics.reply_timeouts.labels("handshake").inc()
            log.warning("cp=%s no answer to the handshake check in time", charge_point)
            raise _unavailable() from None
        except Exception:  # the bus failed: refuse, never let in unchecked
            self.metrics.publish_failures.labels("handshake").inc()
            log.exception("cp=%s publishing the handshake check failed", charge_point)
            raise _unavailable() from None
        finally:
            self.replies.forget(event["id"])
        if answer.get("accept") is True:
            assert isinstance(connection, ActivityConnection)
            connection.authenticated = answer.get("authenticated") is True
            return
        status = answer.get("status")
        if answer.get("accept") is not False or not isinstance(status, int) or status < 400:
            # A worker that does not know `handshake` answers without a decision.
            log.warning("cp=%s handshake answer without a decision: %.200r", charge_point, answer)
            raise _unavailable()
        if status not in HTTPStatus._value2member_map_:
            status = HTTPStatus.FORBIDDEN
        reason = str(answer.get("reason") or HTTPStatus(status).phrase)[:200]
        retry_after = answer.get("retry_after")
        retry_after = retry_after if isinstance(retry_after, int) and retry_after > 0 else 0
        if status == HTTPStatus.TOO_MANY_REQUESTS:
            self.throttle.block(host, charge_point, retry_after or 1)
        elif status == HTTPStatus.NOT_FOUND or (credentials and status == HTTPStatus.UNAUTHORIZED):
            # Not a 401 asking for credentials first, which every charger with a key gets.
            self.throttle.failed(host)
        label = {401: "unauthorized", 404: "unknown_charge_point", 429: "throttled"}.get(
            status, "refused"
        )
        raise auth.Refusal(status, reason, reason=label, retry_after=retry_after)

    def _may_see_status(self, connection: ServerConnection, request: Request) -> bool:
        """/health names the host and /metrics the load: internal peers, or the bearer token."""
        token = self.config.metrics_token
        if token and hmac.compare_digest(
            request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode()
        ):
            return True
        try:
            peer = ipaddress.ip_address(_host(connection))
        except ValueError:
            return False
        if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped:
            peer = peer.ipv4_mapped
        return any(peer in network for network in self._internal)

    def _metrics(self, connection: ServerConnection) -> Response:
        response = connection.respond(HTTPStatus.OK, self.metrics.exposition().decode())
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = METRICS_CONTENT_TYPE
        return response

    def _health(self, connection: ServerConnection) -> Response:
        body = {
            "status": "ok" if self._bus_error is None else "broker unreachable",
            "gateway": self.config.gateway_id,
            "connections": len(self.connections),
            # Closed connections whose last events are still on their way to the workers.
            "draining": sum(1 for task in self._forwarders if not task.done()),
            # The Redis presence lease: "ok", "failing" (not renewed lately) or "off".
            "presence": self._presence.state if self._presence is not None else "off",
        }
        if self._bus_error is not None:
            body["broker"] = self._bus_error
        status = HTTPStatus.OK if self._bus_error is None else HTTPStatus.SERVICE_UNAVAILABLE
        response = connection.respond(status, json.dumps(body) + "\n")
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
            idle_timeout=self.config.effective_idle_timeout,
            max_frames_per_second=self.config.max_frames_per_second,
            frame_burst=self.config.frame_burst,
            metrics=self.metrics,
        )
        previous = self.connections.get(connection.charge_point_id)
        self.connections[connection.charge_point_id] = connection
        self.metrics.accepted.inc()
        log.info(
            "%s connected from %s (subprotocol %s)",
            connection,
            connection.remote,
            websocket.subprotocol,
        )
        if previous is not None:
            self._takeover(connection, previous, authenticated=websocket.authenticated)
        try:
            # Before `connect` is forwarded: a command sent once the worker knows the charger
            # must already be routable here.
            await self._bind(connection)
            await connection.serve()
        except Exception:
            log.exception("%s failed", connection)
        finally:
            held = self.connections.get(connection.charge_point_id) is connection
            if held:
                del self.connections[connection.charge_point_id]
            if connection.forwarder is not None:
                self._forwarders.add(connection.forwarder)
                connection.forwarder.add_done_callback(self._forwarders.discard)
            code, reason = connection.close_status or (1006, "")
            log.info("%s disconnected (%d %s)", connection, code, reason)
            if held:
                await self._unbind(connection.charge_point_id)

    def _takeover(
        self, connection: Connection, previous: Connection, *, authenticated: bool
    ) -> None:
        """The newest connection wins (a charger that reconnects before its old socket is seen
        dead). Authenticated with the charge point's key, that is the charger itself; without,
        anyone who knows the id may be kicking the real charger off: say so, with both peers."""
        self.metrics.takeovers.labels("true" if authenticated else "false").inc()
        if authenticated:
            log.info("%s replaces conn=%s", connection, previous.id[:8])
        else:
            log.warning(
                "%s from %s replaces conn=%s from %s without credentials",
                connection,
                connection.remote,
                previous.id[:8],
                previous.remote,
            )
        self._spawn(previous.replace(), f"replace {previous!r}")

    def _spawn(self, coroutine: Any, name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._forwarders.add(task)  # awaited on shutdown like the forwarders
        task.add_done_callback(self._forwarders.discard)
        task.add_done_callback(_log_failure)


def _compression(mode: str) -> list[ServerExtensionFactory]:
    """Per-message deflate with websockets' lean settings (docs, "Compression": window bits 11,
    memLevel 4, about 52 KiB a connection against 70 KiB for its default); a charger that does
    not offer it, or offers no window limit, is served without it or with its own window."""
    if mode == "off":
        return []
    return [
        ServerPerMessageDeflateFactory(
            server_max_window_bits=11,
            client_max_window_bits=11,
            compress_settings={"memLevel": 4},
        )
    ]


@contextlib.contextmanager
def _quiet(*loggers: str) -> Iterator[None]:
    """Silence `loggers` (aiormq logs an error, aio-pika a reconnect line, per failed attempt)."""
    levels = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _unavailable() -> auth.Refusal:
    return auth.Refusal(
        HTTPStatus.SERVICE_UNAVAILABLE,
        "Cannot check the handshake now; retry later",
        reason="unavailable",
    )


def _remote(connection: ServerConnection) -> str:
    address = connection.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


def _host(connection: ServerConnection) -> str:
    address = connection.remote_address
    return str(address[0]) if isinstance(address, tuple) and address else str(address)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s failed", task.get_name(), exc_info=task.exception())
