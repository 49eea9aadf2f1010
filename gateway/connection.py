"""One accepted websocket: its events go to the workers one at a time, its CALLs out one at a time."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.protocol import State

from charging.protocol import Call, CallError, FrameError, parse
from charging.protocol import envelope as env
from charging.protocol.errors import InternalError
from charging.protocol.frames import CALL, CALLERROR, CALLRESULT, FrameHead, peek
from charging.tracing import traced_forward

from .bus import Bus
from .limits import IDLE_CLOSE, TokenBucket
from .metrics import UNKNOWN, GatewayMetrics
from .replies import Replies

log = logging.getLogger("gateway.connection")

REPLACED = (int(CloseCode.NORMAL_CLOSURE), "replaced by a newer connection")
# Charger CALLs awaiting our answer, remembered for the answer's action label; a bound against
# a charger that never lets us answer (each is normally answered within reply_timeout).
MAX_UNANSWERED = 1000
# Backoff between attempts to publish an event that is not a CALL while the broker is away.
PUBLISH_RETRY_FIRST = 0.1
PUBLISH_RETRY_MAX = 2.0


class Connection:
    """Relays one charge point's websocket to the Bus and back.

    Ordering (docs/envelope.md, "Flow control"): events wait in `_events`; the forwarder task
    publishes one, waits for its reply (at most `reply_timeout`), applies it, then takes the
    next. Outbound CALLs wait in `_outbox`; the sender task keeps at most one unanswered
    (OCPP 1.6 §4.1.1).
    """

    def __init__(
        self,
        websocket: ServerConnection,
        *,
        charge_point_id: str,
        bus: Bus,
        replies: Replies,
        gateway_id: str,
        reply_timeout: float = 30.0,
        default_call_timeout: float = 30.0,
        max_pending_events: int = 100,
        idle_timeout: float | None = None,
        max_frames_per_second: float = 0.0,
        frame_burst: int = 40,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self.id = env.new_id()
        self.charge_point_id = charge_point_id
        self.websocket = websocket
        self.remote = _address(websocket.remote_address)
        self._bus = bus
        self._replies = replies
        self._gateway_id = gateway_id
        self._reply_timeout = reply_timeout
        self._default_call_timeout = default_call_timeout
        # Bounded: a charger flooding frames stops being read (TCP backpressure) instead of
        # growing memory; a well-behaved one has a single CALL in flight anyway.
        self._events: asyncio.Queue[env.Inbound] = asyncio.Queue(maxsize=max_pending_events)
        # Created with the first outbound CALL: most chargers sit idle for hours, and a queue and
        # a task cost about 4 KiB a connection (the idle benchmark, benchmarks/load).
        self._outbox: asyncio.Queue[env.OutboundCall] | None = None
        self._idle_timeout = idle_timeout or None
        # Loop time the reader began waiting for the next message; None while it is busy (time
        # spent on our own backpressure or throttling is never the charger's silence).
        self._waiting_since: float | None = None
        self._bucket = (
            TokenBucket(rate=max_frames_per_second, burst=frame_burst)
            if max_frames_per_second > 0
            else None
        )
        self._throttled = 0  # frames delayed in the current throttling episode
        self._metrics = metrics or GatewayMetrics()
        # Our CALL awaiting the charger's answer: (unique id, action, future of the loop time
        # the answer arrived).
        self._outstanding: tuple[str, str, asyncio.Future[float]] | None = None
        self._answering: dict[str, str] = {}  # the charger's CALLs we owe an answer: id → action
        # Made with the first delayed CALL (rare): an empty set costs ~0.2 KiB a connection.
        self._delayed: set[asyncio.Task[None]] | None = None
        # Ids of forwarded events that are CALLs: they expire after the reply timeout.
        self._call_events: set[str] = set()
        self._closing: tuple[int, str] | None = None
        self._open = True
        self.close_status: tuple[int, str] | None = None  # (code, reason) once closed
        self.forwarder: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.charge_point_id} {self.id[:8]} from {self.remote}>"

    def __str__(self) -> str:
        # Every log line about a connection starts with `cp=<id>`: grep by charge point.
        return f"cp={self.charge_point_id} conn={self.id[:8]}"

    # --- lifecycle -------------------------------------------------------------------------

    async def serve(self) -> None:
        """Relay until the websocket closes. Returns once `disconnect` is queued; the forwarder
        task (`self.forwarder`) goes on delivering what is left."""
        forwarder = self.forwarder = asyncio.create_task(
            self._forward_all(), name=f"forward {self.charge_point_id} {self.id[:8]}"
        )
        await self._emit("connect", remote=self.remote, subprotocol=self.websocket.subprotocol)
        if self._idle_timeout is not None:
            self._watchdog = asyncio.create_task(
                self._watch_idle(),
                name=f"idle {self.charge_point_id} {self.id[:8]}",
            )
        loop = asyncio.get_running_loop()
        cancelled = False
        try:
            while True:
                self._waiting_since = loop.time()
                try:
                    message = await self.websocket.recv()
                finally:
                    self._waiting_since = None
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                head = peek(text)  # decoded once: metrics, expiry and the outbound slot
                self._frame_in(head)
                await self._throttle()
                event = await self._emit("frame", text=text)
                if head.message_type == CALL:
                    self._call_events.add(event["id"])
                self._note_answer(head)
        except ConnectionClosed:
            pass  # the close code goes into the disconnect event
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            self._open = False
            # Queued outbound calls are dropped: the worker marks them failed on `disconnect`.
            for task in (self._sender, self._watchdog, *(self._delayed or ())):
                if task is not None:
                    task.cancel()
            code, reason = self.close_status = self._close_status()
            if cancelled or forwarder.done():
                # Cancelled by a shutdown past its drain timeout: waiting for room in a full
                # queue, which no forwarder empties any more, would hang the handler for good.
                forwarder.cancel()
                log.warning("%s: disconnect (%d) not delivered: shutting down", self, code)
            else:
                await self._emit("disconnect", code=code, reason=reason)

    async def replace(self) -> None:
        """Close because the same charge point connected again (the newest connection wins)."""
        self._closing = REPLACED
        await self.websocket.close(*REPLACED)

    async def _watch_idle(self) -> None:
        """Close the socket once the charger has sent nothing, not even a pong, for
        `idle_timeout` seconds while we were ready to read: a zombie (dead peer, NAT entry gone,
        …) whose TCP connection would otherwise stay open for hours."""
        timeout = self._idle_timeout
        assert timeout is not None
        loop = asyncio.get_running_loop()
        while True:
            since = self._waiting_since
            if since is None:  # the reader is busy: not the charger's silence
                await asyncio.sleep(timeout)
                continue
            last = max(since, getattr(self.websocket, "last_received", None) or since)
            remaining = last + timeout - loop.time()
            if remaining > 0:
                await asyncio.sleep(remaining)
                continue
            log.info(
                "%s idle: nothing received for %g s, closing with %d", self, timeout, IDLE_CLOSE[0]
            )
            self._metrics.idle_closes.inc()
            self._closing = IDLE_CLOSE
            await self.websocket.close(*IDLE_CLOSE)
            return

    async def _throttle(self) -> None:
        """Hold the reader (so TCP pushes back on the charger) while it is over its rate."""
        if self._bucket is None:
            return
        wait = self._bucket.take()
        if wait <= 0:
            # The episode (one warning) ends once the charger has stayed under its rate long
            # enough to save up half its burst again, not at its first pause.
            if self._throttled and self._bucket.saved_up >= self._bucket.burst / 2:
                log.info("%s no longer throttled (%d frames delayed)", self, self._throttled)
                self._throttled = 0
            return
        if not self._throttled:
            log.warning(
                "%s throttled: more than %g frames/s (burst %d)",
                self,
                self._bucket.rate,
                self._bucket.burst,
            )
        self._throttled += 1
        self._metrics.throttled_frames.inc()
        await asyncio.sleep(wait)

    def _close_status(self) -> tuple[int, str]:
        if self._closing is not None:
            return self._closing
        protocol = self.websocket.protocol
        # What the charger sent, else what we sent (1009 too big, 1011 keepalive), else 1006.
        frame = protocol.close_rcvd or protocol.close_sent
        if frame is None:
            return int(CloseCode.ABNORMAL_CLOSURE), ""
        return int(frame.code), frame.reason

    # --- inbound: charger → worker, one event at a time -------------------------------------

    async def _emit(self, kind: env.Kind, **fields: Any) -> env.Inbound:
        event = env.inbound(
            kind,
            cp=self.charge_point_id,
            conn=self.id,
            gateway=self._gateway_id,
            reply_to=self._bus.reply_to,
            **fields,
        )
        await self._events.put(event)
        return event

    async def _forward_all(self) -> None:
        forward = traced_forward(self._forward)  # self._forward itself unless tracing is on
        while True:
            event = await self._events.get()
            try:
                await forward(event)
            except Exception:
                log.exception("%s: forwarding %s event failed", self, event["kind"])
            if event["kind"] == "disconnect":
                return

    async def _forward(self, event: env.Inbound) -> None:
        reply_future = self._replies.expect(event["id"])
        is_call = event["id"] in self._call_events
        if is_call:
            self._call_events.discard(event["id"])
            # Once the charger has had its InternalError for this CALL, processing it would only
            # delay the charger's retry behind it: the workers drop it after this time.
            event["expires"] = env.expires_after(self._reply_timeout)
        try:
            if not is_call:
                # A state change the workers must see (connect, disconnect, the charger's
                # answer to our CALL, ...): nobody would send it again, so it waits for the
                # broker; the connection's later events wait behind it, in order.
                await self._publish_until_taken(event)
            async with asyncio.timeout(self._reply_timeout):
                if is_call:
                    # Once: the charger's own retry is the retry (OCPP-J 1.6 §4.2.3).
                    await self._bus.publish(event)
                reply = await reply_future
        except TimeoutError:
            self._metrics.reply_timeouts.labels(event["kind"]).inc()
            log.warning(
                "%s: no reply to %s event %s within %.1f s",
                self,
                event["kind"],
                event["id"],
                self._reply_timeout,
            )
            await self._answer_unanswered(event)
            return
        except Exception:
            self._metrics.publish_failures.labels(event["kind"]).inc()
            log.exception("%s: publishing %s event %s failed", self, event["kind"], event["id"])
            await self._answer_unanswered(event)
            return
        finally:
            self._replies.forget(event["id"])
        await self._apply(reply)

    async def _publish_until_taken(self, event: env.Inbound) -> None:
        """Publish `event`, again after each failure (backoff up to 2 s) until the broker
        confirms it; the gateway's shutdown cancels this after its drain timeout."""
        backoff = PUBLISH_RETRY_FIRST
        while True:
            try:
                await self._bus.publish(event)
                return
            except Exception as error:  # noqa: BLE001 - any failure: the broker did not take it
                self._metrics.publish_failures.labels(event["kind"]).inc()
                log.warning(
                    "%s: publishing %s event %s failed (%s), retrying in %.1f s",
                    self,
                    event["kind"],
                    event["id"],
                    error or type(error).__name__,
                    backoff,
                )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, PUBLISH_RETRY_MAX)

    async def _answer_unanswered(self, event: env.Inbound) -> None:
        """The worker never answered: a charger's CALL still needs its CALLERROR (OCPP-J 1.6
        §4.2.3), with a generic InternalError so nothing internal leaks."""
        if event["kind"] != "frame":
            return
        try:
            frame = parse(event["text"])
        except FrameError as error:
            unique_id = error.unique_id if error.answerable else None
        else:
            unique_id = frame.unique_id if isinstance(frame, Call) else None
        if unique_id is not None:
            await self._write(CallError.from_exception(unique_id, InternalError()).to_json())

    async def _apply(self, reply: env.Reply) -> None:
        send = reply.get("send")
        if isinstance(send, str) and send:
            await self._write(send)
        elif send is not None:
            log.warning("%s: ignoring reply %s with a non-text `send`", self, reply.get("id"))
        calls = reply.get("calls") or []
        if calls and self._open:
            self._queue_calls(calls)

    # --- outbound: worker → charger, one CALL outstanding ----------------------------------

    @property
    def has_outstanding_call(self) -> bool:
        """True while a CALL of ours waits for the charger's answer."""
        return self._outstanding is not None

    @property
    def is_open(self) -> bool:
        """True until the websocket closes; afterwards no new CALL is queued."""
        return self._open

    def queue_call(self, call: env.OutboundCall) -> bool:
        """Queue a command's CALL like a reply's `calls` (after its `delay`); False if closed."""
        if not self._open:
            return False
        self._queue_calls([call])
        return True

    def _queue_calls(self, calls: list[env.OutboundCall]) -> None:
        if not any(_delay(call) > 0 for call in calls):
            for call in calls:
                self._enqueue(call)
            return
        task = asyncio.create_task(self._queue_later(calls))
        if self._delayed is None:
            self._delayed = set()
        self._delayed.add(task)
        task.add_done_callback(self._delayed.discard)

    async def _queue_later(self, calls: list[env.OutboundCall]) -> None:
        # Each delay counts from the reply; a stable sort keeps equal delays in reply order.
        loop = asyncio.get_running_loop()
        start = loop.time()
        for call in sorted(calls, key=_delay):
            remaining = start + _delay(call) - loop.time()
            if remaining > 0:
                await asyncio.sleep(remaining)
            if not self._open:
                return
            if call.get("confirm"):
                # The workers decide whether it is still wanted, after the events received
                # before it was due (docs/envelope.md, `call_due`); their reply carries it.
                await self._emit("call_due", unique_id=call["unique_id"])
            else:
                self._enqueue(call)

    def _enqueue(self, call: env.OutboundCall) -> None:
        if not self._open:
            return  # the worker ends the calls of a closed connection on its `disconnect`
        if self._outbox is None:
            self._outbox = asyncio.Queue()
            self._sender = asyncio.create_task(
                self._send_calls(self._outbox), name=f"send {self.charge_point_id} {self.id[:8]}"
            )
        self._outbox.put_nowait(call)

    async def _send_calls(self, outbox: asyncio.Queue[env.OutboundCall]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            call = await outbox.get()
            answered: asyncio.Future[float] = loop.create_future()
            try:
                action = str(call.get("action") or "")
                self._outstanding = (call["unique_id"], action, answered)
                head = FrameHead(CALL, call["unique_id"], action)
                sent_at = loop.time()
                if not await self._write(call["text"], head):
                    return
                timeout = call.get("timeout") or self._default_call_timeout
                try:
                    answered_at = await asyncio.wait_for(answered, timeout)
                    self._metrics.call_seconds.labels(head.action).observe(answered_at - sent_at)
                except TimeoutError:
                    self._metrics.call_timeouts.labels(head.action).inc()
                    log.info(
                        "%s: %s %s got no answer within %.1f s",
                        self,
                        call.get("action"),
                        call["unique_id"],
                        timeout,
                    )
                    await self._emit("call_timeout", unique_id=call["unique_id"])
            except (KeyError, TypeError, ValueError):
                log.exception("%s: dropping malformed outbound call %r", self, call)
            finally:
                self._outstanding = None

    def _note_answer(self, head: FrameHead) -> None:
        """Free the outbound slot when this frame answers the CALL we are waiting for."""
        if self._outstanding is None:
            return
        unique_id, _, answered = self._outstanding
        answers_it = head.message_type in (CALLRESULT, CALLERROR) and head.unique_id == unique_id
        if answers_it and not answered.done():
            answered.set_result(asyncio.get_running_loop().time())

    def _frame_in(self, head: FrameHead) -> None:
        action = head.action
        if head.message_type == CALL:
            if len(self._answering) >= MAX_UNANSWERED:
                del self._answering[next(iter(self._answering))]
            self._answering[head.unique_id] = action
        elif head.message_type in (CALLRESULT, CALLERROR):
            outstanding = self._outstanding
            action = outstanding[1] if outstanding and outstanding[0] == head.unique_id else UNKNOWN
        self._metrics.frame("in", head.message_type, action)
        log.debug(
            "cp=%s in %s %s %s", self.charge_point_id, head.message_type, action, head.unique_id
        )

    # --- socket -----------------------------------------------------------------------------

    async def _write(self, text: str, head: FrameHead | None = None) -> bool:
        head = head or peek(text)
        action = head.action
        if head.message_type in (CALLRESULT, CALLERROR):
            # Our answer to the charger's CALL with this unique id.
            action = self._answering.pop(head.unique_id, UNKNOWN)
        if self.websocket.state is not State.OPEN:
            log.debug("%s: socket closed, not sending %.80s", self, text)
            return False
        try:
            await self.websocket.send(text)
        except ConnectionClosed:
            log.debug("%s: socket closed while sending %.80s", self, text)
            return False
        self._metrics.frame("out", head.message_type, action)
        log.debug(
            "cp=%s out %s %s %s", self.charge_point_id, head.message_type, action, head.unique_id
        )
        return True


def _address(address: Any) -> str:
    """`host:port` (`[host]:port` for IPv6) of a socket peer address."""
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(address)


def _delay(call: env.OutboundCall) -> float:
    try:
        return max(float(call.get("delay") or 0.0), 0.0)
    except (TypeError, ValueError):
        return 0.0
