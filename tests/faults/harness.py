"""Fault-test helpers: a processes' stack of its own, kill -9 of a worker's process group, and a
charger that retries a CALL (same frame, same unique id) until it is answered."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kombu import Connection as AmqpConnection

from celery_app import app as celery
from charging.models import MeterValue, OutboundCall, Transaction
from charging.protocol import envelope as env
from levity.devstack import (
    Process,
    free_port,
    health,
    raw_charger,
    start_beat,
    start_gateway,
    start_worker,
    wait_until,
)


@dataclass
class FaultStack:
    """Processes started by one fault test, all stopped when it ends (gateways first, so the
    workers still deliver the last `disconnect`s)."""

    env: dict[str, str]
    tmp: Path
    amqp_url: str
    gateways: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)

    def start_worker(self, name: str = "worker", *, concurrency: int = 2) -> Process:
        worker = start_worker(self.tmp, self.env, name=name, concurrency=concurrency)
        self.workers.append(worker)
        return worker

    def start_gateway(
        self, name: str = "gateway", *, extra: list[str] | None = None
    ) -> tuple[Process, int]:
        gateway, port = start_gateway(self.tmp, self.env, name=name, extra=extra)
        self.gateways.append(gateway)
        return gateway, port

    def start_beat(self) -> Process:
        beat = start_beat(self.tmp, self.env)
        self.workers.append(beat)
        return beat

    def stop(self) -> None:
        for process in self.gateways:
            process.stop()
        for process in self.workers:
            process.stop()

    def worker_logs(self) -> str:
        return "\n".join(worker.log() for worker in self.workers)

    def queue_depth(self) -> int:
        """Messages ready on `cp.*` (0 when the queue does not exist yet)."""
        with AmqpConnection(self.amqp_url) as amqp:
            try:
                _, ready, _ = amqp.default_channel.queue_declare("cp.*", passive=True)
            except Exception:  # noqa: BLE001 - no queue yet
                return 0
        return ready


def send_command(amqp_url: str, call: OutboundCall) -> None:
    """Enqueue `levity.send_call` for a recorded call on this test's own virtual host (the test
    process's Celery app publishes to the run's shared one)."""
    with AmqpConnection(amqp_url) as amqp:
        celery.send_task(
            env.SEND_CALL_TASK,
            args=(call.pk,),
            routing_key=env.routing_key(call.charge_point_id),
            connection=amqp,
        )


def kill_group(process: Process) -> float:
    """`kill -9` the process group of `process` (a Celery worker: its main process and every
    prefork child at once); returns the monotonic time of the kill."""
    assert process.proc is not None
    at = time.monotonic()
    os.killpg(process.proc.pid, signal.SIGKILL)
    process.proc.wait(timeout=10)
    return at


def group_pids(process: Process) -> set[int]:
    """The process ids in the process group of `process` (a worker and its prefork children)."""
    assert process.proc is not None
    out = subprocess.run(
        ["ps", "-o", "pid=", "-g", str(process.proc.pid)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return {int(pid) for pid in out.split()}


def quiet(port: int) -> bool:
    """The gateway holds no socket and has delivered every event."""
    state = health(port)
    return bool(state) and state["connections"] == 0 and state["draining"] == 0


@dataclass
class CallStats:
    """What the chargers saw, summed over all of them."""

    calls: int = 0  # distinct CALLs (one unique id each)
    sent: int = 0  # frames sent, retries included
    retries: int = 0
    internal_errors: int = 0  # CALLERROR InternalError answers (each followed by a retry)
    timeouts: int = 0  # attempts with no answer within the charger's timeout
    stale: int = 0  # answers to an earlier attempt of an earlier CALL, ignored
    unexpected: list[Any] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # first send → CALLRESULT, per CALL
    answered_at: list[float] = field(default_factory=list)  # monotonic time of each CALLRESULT
    error_at: list[float] = field(default_factory=list)  # monotonic time of each InternalError

    def summary(self) -> str:
        latencies = sorted(self.latencies) or [0.0]
        return (
            f"calls={self.calls} sent={self.sent} retries={self.retries} "
            f"internal_errors={self.internal_errors} timeouts={self.timeouts} "
            f"stale={self.stale} max_latency={latencies[-1]:.2f}s "
            f"p50={latencies[len(latencies) // 2] * 1000:.0f}ms"
        )


class RetryingCharger:
    """A charger on a raw websocket that, like a real one, sends the same CALL again (same
    unique id, same payload) after a CALLERROR InternalError or when no answer comes within
    `timeout`, until answered (at most `attempts` times)."""

    def __init__(
        self,
        ws: Any,
        cp_id: str,
        stats: CallStats,
        *,
        timeout: float,
        attempts: int = 10,
        retry_pause: float = 0.0,
    ) -> None:
        self.ws = ws
        self.retry_pause = retry_pause  # seconds before sending again after an InternalError
        self.cp_id = cp_id
        self.stats = stats
        self.timeout = timeout
        self.attempts = attempts
        self._count = 0

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        self._count += 1
        unique_id = f"{self.cp_id}-{self._count}"
        text = json.dumps([2, unique_id, action, payload])
        self.stats.calls += 1
        first = time.monotonic()
        for attempt in range(self.attempts):
            if attempt:
                self.stats.retries += 1
            await self.ws.send(text)
            self.stats.sent += 1
            answer = await self._answer(unique_id)
            if answer is None:
                self.stats.timeouts += 1
                continue
            if answer[0] == 3:
                now = time.monotonic()
                self.stats.latencies.append(now - first)
                self.stats.answered_at.append(now)
                return answer[2]
            if answer[0] == 4 and answer[2] == "InternalError":
                self.stats.internal_errors += 1
                self.stats.error_at.append(time.monotonic())
                await asyncio.sleep(self.retry_pause)
                continue
            raise AssertionError(f"{self.cp_id} {action} {unique_id}: unexpected {answer}")
        raise AssertionError(f"{self.cp_id} {action} {unique_id}: no answer in {self.attempts}")

    async def _answer(self, unique_id: str) -> list[Any] | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while (remaining := deadline - loop.time()) > 0:
            try:
                message = json.loads(await asyncio.wait_for(self.ws.recv(), remaining))
            except TimeoutError:
                return None
            if message[0] == 2:
                self.stats.unexpected.append(message)  # no CALL of ours is expected here
            elif message[1] == unique_id:
                return message
            else:
                self.stats.stale += 1
        return None


async def session_charger(
    port: int,
    cp_id: str,
    stats: CallStats,
    stop: asyncio.Event,
    sent: dict[str, list[str]],
    *,
    answer_within: float,
    pause: float,
    retry_pause: float = 0.0,
) -> None:
    """One charger's session until `stop`: boot, start a transaction, then Heartbeat and
    MeterValues in turn (each value in `sent[cp_id]`, to check every one is stored once), stop.
    Every CALL is retried as a real charger does (RetryingCharger) until answered."""
    sent[cp_id] = []
    async with raw_charger(port, cp_id) as ws:
        charger = RetryingCharger(
            ws, cp_id, stats, timeout=answer_within, attempts=20, retry_pause=retry_pause
        )
        await charger.call(
            "BootNotification", {"chargePointVendor": "Levity", "chargePointModel": "Fault"}
        )
        started = await charger.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "PG", "meterStart": 0, "timestamp": "2026-03-01T10:00:00Z"},
        )
        transaction_id = started["transactionId"]
        n = 0
        while not stop.is_set():
            n += 1
            if n % 2:
                await charger.call("Heartbeat", {})
            else:
                value = str(n * 10)
                await charger.call(
                    "MeterValues",
                    {
                        "connectorId": 1,
                        "transactionId": transaction_id,
                        "meterValue": [
                            {
                                "timestamp": f"2026-03-01T10:00:{n % 60:02d}Z",
                                "sampledValue": [{"value": value}],
                            }
                        ],
                    },
                )
                sent[cp_id].append(value)
            await asyncio.sleep(pause)
        await charger.call(
            "StopTransaction",
            {
                "transactionId": transaction_id,
                "meterStop": n * 10,
                "timestamp": "2026-03-01T11:00:00Z",
            },
        )


def assert_sessions_stored_once(sent: dict[str, list[str]]) -> None:
    """After `session_charger`s: every meter value sent stored once, in order, and one
    transaction per charger, stopped."""
    for cp_id, values in sent.items():
        stored = list(
            MeterValue.objects.filter(charge_point_id=cp_id)
            .order_by("id")
            .values_list("value", flat=True)
        )
        assert stored == values, cp_id
    transactions = Transaction.objects.filter(charge_point_id__in=sent)
    assert transactions.count() == len(sent)
    assert not transactions.filter(stopped_at__isnull=True).exists()


@dataclass
class PrivateRedis:
    """A redis-server of the test's own on a free port, to break without touching the shared
    one: `freeze` (SIGSTOP: a hung host that still accepts connections) and `thaw`."""

    tmp: Path
    port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        import redis

        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""],
            cwd=self.tmp,
            stdout=(self.tmp / f"redis-{self.port}.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port, socket_timeout=1)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_until(answers, timeout=10, what=f"redis-server on {self.port}")
        return self

    def freeze(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.thaw()
            self.proc.kill()
            self.proc.wait(timeout=10)
