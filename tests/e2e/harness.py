"""Real processes for end-to-end tests: gateway, Celery worker, `levity up`, and a charger client."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import ssl as ssl_module
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import websockets
from django.db import connections
from ocpp.charge_point import camel_to_snake_case
from ocpp.messages import MessageType, unpack
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result

ROOT = Path(__file__).resolve().parents[2]
# tests/settings.py points AMQP_URL at this run's own virtual host.
AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def in_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run blocking Django code off the event loop (the charger runs on it); awaitable."""

    def run() -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    return asyncio.to_thread(run)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@dataclass
class Process:
    """A child process with its output in a log file, stopped with SIGTERM then SIGKILL."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None

    def start(self) -> Process:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        def seen() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with {self.proc.returncode}:\n{self.log()[-4000:]}"
                )
            return text in self.log()

        wait_until(seen, timeout=timeout, interval=0.1, what=f"{text!r} in {self.name} log")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()


# DEBUG off but served over plain HTTP on 127.0.0.1 (production otherwise redirects to HTTPS and
# marks cookies Secure: levity_backend/settings.py, docs/security.md), with the development
# defaults the tests drive explicitly opted into: the simulator, unknown charge points accepted,
# chargers without keys, /metrics without a token.
PLAIN_HTTP_PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "levity-tests-only-not-a-secret-0123456789-abcdefghijklmnop",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "OCPP_SIMULATOR_ENABLED": "true",
    "OCPP_UNKNOWN_CHARGE_POINTS": "accept",
    "OCPP_ALLOW_CHARGERS_WITHOUT_KEY": "true",
    "METRICS_OPEN": "true",
}


def base_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="levity_backend.settings",
        PYTHONUNBUFFERED="1",
        AMQP_URL=AMQP_URL,
        # Short, yet ample for a charger's next frame, sent on the answer to Preparing, to reach
        # the gateway before the call is due (tests/e2e/test_auto_remote_start.py).
        OCPP_AUTO_REMOTE_START_DELAY="0.5",
        OCPP_CALL_TIMEOUT="5",
    )
    env.update(overrides)
    return env


def start_gateway(
    tmp: Path,
    env: dict[str, str],
    *,
    name: str = "gateway",
    extra: list[str] | None = None,
    tls: ssl_module.SSLContext | None = None,
    port: int | None = None,
) -> tuple[Process, int]:
    """A gateway on `port` (default: a free one; the same again to restart one in place), once
    its /health answers (over TLS with the client context `tls`, for a gateway given
    --tls-cert)."""
    port = port or free_port()
    gateway = Process(
        name,
        [
            sys.executable,
            "-m",
            "gateway",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ping-interval",
            "0",
            *(extra or []),
        ],
        env,
        tmp / f"{name}.log",
    ).start()
    wait_until(lambda: health(port, tls=tls), timeout=30, what=f"{name} /health")
    return gateway, port


def start_worker(
    tmp: Path,
    env: dict[str, str],
    *,
    name: str = "worker",
    concurrency: int = 2,
    app: str = "celery_app",
) -> Process:
    worker = Process(
        name,
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            app,
            "worker",
            "-Q",
            "cp.*",
            "-c",
            str(concurrency),
            "-n",
            f"{name}-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ],
        env,
        tmp / f"{name}.log",
    ).start()
    worker.wait_for_log(" ready.", timeout=60)
    return worker


def health(port: int, *, tls: ssl_module.SSLContext | None = None) -> dict[str, Any] | None:
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=1, context=tls) as response:
            return json.loads(response.read())
    except OSError:
        return None


# What a charger answers to each Central System → Charge Point action unless told otherwise
# (camelCase, as on the wire): an accepting charger.
DEFAULT_ANSWERS: dict[str, dict[str, Any]] = {
    "CancelReservation": {"status": "Accepted"},
    "ChangeAvailability": {"status": "Accepted"},
    "ChangeConfiguration": {"status": "Accepted"},
    "ClearCache": {"status": "Accepted"},
    "ClearChargingProfile": {"status": "Accepted"},
    "DataTransfer": {"status": "Accepted", "data": "pong"},
    "GetCompositeSchedule": {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2026-01-01T00:00:00Z",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        },
    },
    "GetConfiguration": {
        "configurationKey": [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        ]
    },
    "GetDiagnostics": {"fileName": "diagnostics.zip"},
    "GetLocalListVersion": {"listVersion": 7},
    "RemoteStartTransaction": {"status": "Accepted"},
    "RemoteStopTransaction": {"status": "Accepted"},
    "ReserveNow": {"status": "Accepted"},
    "Reset": {"status": "Accepted"},
    "SendLocalList": {"status": "Accepted"},
    "SetChargingProfile": {"status": "Accepted"},
    "TriggerMessage": {"status": "Accepted"},
    "UnlockConnector": {"status": "Unlocked"},
    "UpdateFirmware": {},
    # Security extension
    "CertificateSigned": {"status": "Accepted"},
    "DeleteCertificate": {"status": "Accepted"},
    "ExtendedTriggerMessage": {"status": "Accepted"},
    "GetInstalledCertificateIds": {
        "status": "Accepted",
        "certificateHashData": [
            {
                "hashAlgorithm": "SHA256",
                "issuerNameHash": "5ba7",
                "issuerKeyHash": "c4e1",
                "serialNumber": "0a1b",
            }
        ],
    },
    "GetLog": {"status": "Accepted", "filename": "security.log"},
    "InstallCertificate": {"status": "Accepted"},
    "SignedUpdateFirmware": {"status": "Accepted"},
}


@dataclass
class Received:
    """A CALL of ours as the charger saw it: when it arrived, and when it was answered."""

    action: str
    unique_id: str
    payload: dict[str, Any]
    at: float
    answered_at: float | None = None


class SimulatedChargePoint(ChargePoint):
    """The `ocpp` package's charge point, answering every CALL our server sends.

    Configurable per action: `answers[action]` (camelCase payload), `errors[action]` =
    (code, description) to answer CALLERROR, `silent` actions are never answered, `delays[action]`
    seconds before answering (without blocking the charger's own reading and calling).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remote_starts: list[dict[str, Any]] = []
        self.remote_start_status = "Accepted"
        self.answers: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, tuple[str, str]] = {}
        self.silent: set[str] = set()
        self.delays: dict[str, float] = {}
        self.received: list[Received] = []
        self.call_received = asyncio.Event()  # set at each CALL of ours
        self._later: set[asyncio.Task[None]] = set()

    async def route_message(self, raw_msg: str) -> None:
        try:
            msg = unpack(raw_msg)
        except Exception:  # noqa: BLE001 - the library logs and drops it
            return await super().route_message(raw_msg)
        if msg.message_type_id != MessageType.Call or msg.action not in DEFAULT_ANSWERS:
            return await super().route_message(raw_msg)
        received = Received(msg.action, msg.unique_id, msg.payload, time.monotonic())
        self.received.append(received)
        self.call_received.set()
        if msg.action in self.silent:
            return None
        delay = self.delays.get(msg.action, 0.0)
        if delay:
            task = asyncio.create_task(self._answer(msg, received, delay))
            self._later.add(task)
            task.add_done_callback(self._later.discard)
            return None
        return await self._answer(msg, received, 0.0)

    async def _answer(self, msg: Any, received: Received, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        received.answered_at = time.monotonic()
        if msg.action in self.errors:
            code, description = self.errors[msg.action]
            await self._send(json.dumps([4, msg.unique_id, code, description, {"by": "sim"}]))
            return
        await self._handle_call(msg)

    def _result(self, action: str, kwargs: dict[str, Any]) -> Any:
        answer = self.answers.get(action, DEFAULT_ANSWERS[action])
        if action == "RemoteStartTransaction":
            self.remote_starts.append(
                {
                    "id_tag": kwargs.get("id_tag"),
                    "connector_id": kwargs.get("connector_id"),
                    "at": time.monotonic(),
                }
            )
            answer = self.answers.get(action, {"status": self.remote_start_status})
        return getattr(call_result, action)(**camel_to_snake_case(answer))


def _handler(action: str) -> Any:
    def handle(self: SimulatedChargePoint, **kwargs: Any) -> Any:
        return self._result(action, kwargs)

    # `ocpp.routing.on` finds handlers by function name.
    handle.__name__ = handle.__qualname__ = f"on_{action}"
    return on(action)(handle)


for _action in DEFAULT_ANSWERS:
    setattr(SimulatedChargePoint, f"on_{_action}", _handler(_action))


class LoopingChargePoint(SimulatedChargePoint):
    """A charger like a widely used simulator's defaults (issue 13): it accepts every
    RemoteStartTransaction, even while charging, and then reports `Preparing` again and starts a
    new transaction with the idTag it was given (which the server must close as an orphan)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remote_sessions: list[int] = []  # transaction ids of the starts it was asked for

    def _result(self, action: str, kwargs: dict[str, Any]) -> Any:
        result = super()._result(action, kwargs)
        if action == "RemoteStartTransaction" and result.status == "Accepted":
            task = asyncio.create_task(
                self._start_remotely(kwargs.get("connector_id") or 1, kwargs["id_tag"])
            )
            self._later.add(task)
            task.add_done_callback(self._later.discard)
        return result

    async def _start_remotely(self, connector_id: int, id_tag: str) -> None:
        await self.call(
            call.StatusNotification(
                connector_id=connector_id, error_code="NoError", status="Preparing"
            )
        )
        start = await self.call(
            call.StartTransaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=0,
                timestamp=datetime.now(UTC).isoformat(),
            )
        )
        self.remote_sessions.append(start.transaction_id)
        await self.call(
            call.StatusNotification(
                connector_id=connector_id, error_code="NoError", status="Charging"
            )
        )


@dataclass
class Charger:
    cp: SimulatedChargePoint
    ws: Any
    task: asyncio.Task = field(repr=False)


@contextlib.asynccontextmanager
async def charger(
    port: int,
    cp_id: str,
    *,
    path: str = "ocpp",
    subprotocol: bool = True,
    password: str | None = None,
    ssl: ssl_module.SSLContext | None = None,
    charge_point_class: type[SimulatedChargePoint] = SimulatedChargePoint,
) -> AsyncIterator[SimulatedChargePoint]:
    """A simulated charger; with `password`, HTTP Basic auth as `cp_id` (security profile 1);
    with `ssl`, over wss:// (profiles 2 and 3)."""
    ws = await websockets.connect(
        f"{'wss' if ssl else 'ws'}://127.0.0.1:{port}/{path}/{cp_id}",
        subprotocols=["ocpp1.6"] if subprotocol else None,
        ping_interval=None,
        open_timeout=10,
        additional_headers=basic_auth(cp_id, password) if password is not None else None,
        ssl=ssl,
    )
    cp = charge_point_class(cp_id, ws, response_timeout=15)
    task = asyncio.create_task(cp.start())
    try:
        yield cp
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await ws.close()


def basic_auth(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


async def raw_exchange(ws: Any, text: str, *, wait: float = 15) -> list[Any]:
    """Send one frame and return the decoded answer."""
    await ws.send(text)
    return json.loads(await asyncio.wait_for(ws.recv(), wait))


@contextlib.asynccontextmanager
async def raw_charger(port: int, cp_id: str, *, subprotocol: bool = True) -> AsyncIterator[Any]:
    """A bare websocket to the gateway, for frames the `ocpp` client would refuse to send."""
    async with websockets.connect(
        f"ws://127.0.0.1:{port}/ocpp/{cp_id}",
        subprotocols=["ocpp1.6"] if subprotocol else None,
        ping_interval=None,
        open_timeout=10,
    ) as ws:
        yield ws
