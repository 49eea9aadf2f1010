"""One simulated charger: connects, boots, sends its mix at its pace, answers the server's CALLs
and reconnects when the connection drops. Raw OCPP-J frames over `websockets`, so that the
generator costs little CPU per call."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed

from benchmarks.load import mix as payloads
from benchmarks.load.mix import Mix
from benchmarks.load.stats import ANSWERED, CALLERROR, LOST, TIMEOUT, CallStats
from levity.devstack import DEFAULT_ANSWERS

CALL, CALLRESULT, CALLERROR_TYPE = 2, 3, 4


@dataclass
class Shared:
    """What the chargers of one process share: the counters, and the run's phases."""

    stats: CallStats = field(default_factory=CallStats)
    boot_stats: CallStats = field(default_factory=CallStats)
    go: asyncio.Event = field(default_factory=asyncio.Event)  # boot phase over: run the mix
    stop: asyncio.Event = field(default_factory=asyncio.Event)  # send no new CALL
    boot_times: list[float] = field(default_factory=list)  # wall clock of each accepted boot
    ready: int = 0  # boots followed by their StatusNotifications
    remote_starts: int = 0
    connected: int = 0


class Disconnected(Exception):
    """The socket closed: reconnect."""


class SimCharger:
    def __init__(
        self,
        cp_id: str,
        url: str,
        mix: Mix,
        shared: Shared,
        *,
        interval: float,
        call_timeout: float = 30.0,
        reconnect: bool = True,
        boot: bool = True,
        boot_on_reconnect: bool = False,
        backoff: tuple[float, float] = (0.5, 5.0),
        rng: random.Random | None = None,
    ) -> None:
        self.cp_id = cp_id
        self.url = url.rstrip("/") + "/" + cp_id
        self.mix = mix
        self.shared = shared
        self.interval = interval  # seconds between our CALLs
        self.call_timeout = call_timeout
        self.reconnect = reconnect
        self.boot = boot  # False: no BootNotification/StatusNotification, straight to the mix
        self.boot_on_reconnect = boot_on_reconnect  # with boot False: boot after a reconnect
        self.connections = 0
        self.backoff = backoff
        self.rng = rng or random.Random()
        # Unique ids unique for the charger's life, across reconnects: the server keys
        # idempotency on (charge point id, unique id).
        self._prefix = f"{self.rng.getrandbits(32):08x}-"
        self._seq = 0
        self._pending: tuple[str, asyncio.Future[list[Any]]] | None = None
        self._ws: Any = None
        self.meter_wh = 0
        self.transaction_id: int | None = None
        self.id_tag = f"TAG-{cp_id}"[:20]
        self.remote_start: str | None = None  # idTag of an accepted RemoteStartTransaction
        # Set by an accepted RemoteStartTransaction (start now, not at the next due time) and
        # at the end of the run.
        self.wake = asyncio.Event()
        self._closed = False

    # -- the connection ---------------------------------------------------------------------

    async def run(self) -> None:
        """Until `shared.stop`: connect, boot, send the mix; reconnect after the socket drops."""
        while not self.shared.stop.is_set():
            try:
                async with websockets.connect(
                    self.url,
                    subprotocols=["ocpp1.6"],
                    ping_interval=None,  # like the gateway in the benchmark: Heartbeats only
                    open_timeout=20,
                    close_timeout=2,
                    max_queue=16,
                ) as ws:
                    self._ws = ws
                    self._closed = False
                    if not self.shared.stop.is_set():
                        self.wake.clear()
                    self.connections += 1
                    self.shared.connected += 1
                    reader = asyncio.create_task(self._read(ws))
                    try:
                        await self._session()
                    finally:
                        self.shared.connected -= 1
                        reader.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await reader
            except (
                OSError,
                ConnectionClosed,
                Disconnected,
                TimeoutError,
                websockets.InvalidHandshake,
            ):
                pass
            finally:
                self._ws = None
            if not self.reconnect or self.shared.stop.is_set():
                return
            # Real chargers back off with jitter, so a restarted server is not hit all at once.
            low, high = self.backoff
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.shared.stop.wait(), self.rng.uniform(low, high))

    async def _read(self, ws: Any) -> None:
        try:
            async for text in ws:
                frame = json.loads(text)
                kind = frame[0]
                if kind == CALL:
                    await self._answer_server_call(ws, frame)
                elif self._pending is not None and frame[1] == self._pending[0]:
                    future = self._pending[1]
                    if not future.done():
                        future.set_result(frame)
        except ConnectionClosed:
            pass
        finally:
            # Noticed at once, as a real charger notices its socket closing: not at the next
            # CALL, which may be minutes away.
            self._closed = True
            self.wake.set()
            if self._pending is not None and not self._pending[1].done():
                self._pending[1].set_exception(Disconnected())

    async def _answer_server_call(self, ws: Any, frame: list[Any]) -> None:
        _, unique_id, action, payload = frame[:4]
        if action == "RemoteStartTransaction":
            # Accepted when the connector is free; the StartTransaction follows from the loop.
            if self.transaction_id is None and self.remote_start is None:
                self.remote_start = str(payload.get("idTag", self.id_tag))
                self.shared.remote_starts += 1
                self.wake.set()
                answer: list[Any] = [CALLRESULT, unique_id, {"status": "Accepted"}]
            else:
                answer = [CALLRESULT, unique_id, {"status": "Rejected"}]
        elif action in DEFAULT_ANSWERS:  # the other CALLs: as an accepting charger
            answer = [CALLRESULT, unique_id, DEFAULT_ANSWERS[action]]
        else:
            answer = [CALLERROR_TYPE, unique_id, "NotImplemented", f"{action} not simulated", {}]
        with contextlib.suppress(ConnectionClosed):
            await ws.send(json.dumps(answer))

    async def call(self, action: str, payload: dict[str, Any], stats: CallStats) -> Any:
        """Send one CALL and wait for its answer (OCPP-J 1.6 §4.1.1: one outstanding at a time).

        Returns the CALLRESULT payload, or None after a CALLERROR or timeout."""
        self._seq += 1
        unique_id = f"{self._prefix}{self._seq}"
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending = (unique_id, future)
        counted = stats.action(action)
        counted.sent += 1
        began = time.perf_counter()
        try:
            await self._ws.send(json.dumps([CALL, unique_id, action, payload]))
            frame = await asyncio.wait_for(future, self.call_timeout)
        except TimeoutError:
            counted.record(TIMEOUT, None)
            return None
        except (ConnectionClosed, Disconnected):
            counted.record(LOST, None)
            raise Disconnected() from None
        finally:
            self._pending = None
        latency = (time.perf_counter() - began) * 1000
        if frame[0] == CALLRESULT:
            counted.record(ANSWERED, latency)
            return frame[2]
        counted.record(CALLERROR, latency, str(frame[2]))
        return None

    # -- the traffic --------------------------------------------------------------------------

    async def _session(self) -> None:
        if self.boot or (self.boot_on_reconnect and self.connections > 1):
            await self._boot()
        else:
            self.shared.ready += 1
        if not self.shared.stop.is_set():
            await self.shared.go.wait()
            await self._traffic()

    async def _boot(self) -> None:
        boot = self.shared.boot_stats
        while True:
            answer = await self.call("BootNotification", payloads.boot_notification(), boot)
            if answer and answer.get("status") == "Accepted":
                break
            # Pending/Rejected or no answer: try again after the interval it asked for.
            wait = float((answer or {}).get("interval") or 5)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.shared.stop.wait(), min(wait, 5))
            if self.shared.stop.is_set():
                return
        self.shared.boot_times.append(time.time())
        # A transaction that was open when the connection dropped is not resumed: end it.
        self.transaction_id = None
        for connector in (0, 1):
            status = payloads.status_notification(connector, "Available")
            await self.call("StatusNotification", status, boot)
        self.shared.ready += 1

    async def _pace(self, due: float) -> float:
        """Wait until `due` (monotonic) or stop; the next due time. A charger that fell
        behind does not burst to catch up: it goes on at its interval from now."""
        delay = due - time.monotonic()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), delay)
            if self._closed:
                raise Disconnected()
            if self.wake.is_set() and not self.shared.stop.is_set():
                self.wake.clear()
                due = time.monotonic()
        else:
            due = time.monotonic()
        return due + self.interval

    async def _traffic(self) -> None:
        stats = self.shared.stats
        # A random phase, so that the chargers' calls spread over the interval.
        due = time.monotonic() + self.rng.uniform(0, self.interval)
        steps = self._cycle_from_random_step()
        while True:
            due = await self._pace(due)
            if self.shared.stop.is_set():
                return
            if self.remote_start is not None and self.transaction_id is None:
                await self._start(self.remote_start, stats)
                self.remote_start = None
                continue
            step = next(steps, None)
            if step is None:
                steps = self.mix.cycle()
                step = next(steps)
            await self._step(step, stats)

    def _cycle_from_random_step(self) -> Iterator[str]:
        """The first cycle, from a random step: so that a short window at a low rate sees the
        whole mix, not only the first steps of every charger's session. A charger that starts
        inside a session starts its transaction first."""
        steps = list(self.mix.cycle())
        first = self.rng.randrange(len(steps))
        rest = steps[first:]
        if self.mix.sessions and "StartTransaction" not in rest and "StopTransaction" in rest:
            rest.insert(0, "StartTransaction")
        return iter(rest)

    async def _start(self, id_tag: str, stats: CallStats) -> None:
        answer = await self.call(
            "StartTransaction", payloads.start_transaction(id_tag, self.meter_wh), stats
        )
        if answer is not None:
            self.transaction_id = int(answer["transactionId"])

    async def _step(self, step: str, stats: CallStats) -> None:
        if step.startswith("Status:"):
            status = payloads.status_notification(1, step.split(":", 1)[1])
            await self.call("StatusNotification", status, stats)
        elif step == "Heartbeat":
            await self.call("Heartbeat", {}, stats)
        elif step == "Authorize":
            await self.call("Authorize", payloads.authorize(self.id_tag), stats)
        elif step == "StartTransaction":
            if self.transaction_id is None:
                await self._start(self.id_tag, stats)
        elif step == "MeterValues":
            if self.transaction_id is not None:
                self.meter_wh += 37  # about 7.4 kW for 18 s
                await self.call(
                    "MeterValues", payloads.meter_values(self.transaction_id, self.meter_wh), stats
                )
            else:
                await self.call("Heartbeat", {}, stats)
        elif step == "StopTransaction" and self.transaction_id is not None:
            transaction_id, self.transaction_id = self.transaction_id, None
            await self.call(
                "StopTransaction",
                payloads.stop_transaction(transaction_id, self.id_tag, self.meter_wh),
                stats,
            )
