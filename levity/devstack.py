"""Development processes for tests and benchmarks alike: a gateway, Celery workers and beat on a
RabbitMQ virtual host and a PostgreSQL database of their own, waits for their readiness, a
simulated charger (the `ocpp` package's ChargePoint, or a raw websocket) and `percentile`.

Not imported by the running system; it needs the dev tools (`rabbitmqctl`, a local PostgreSQL).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import os
import signal
import socket
import ssl as ssl_module
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import websockets
from ocpp.charge_point import camel_to_snake_case
from ocpp.messages import MessageType, unpack
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = "postgresql://postgres@127.0.0.1:5432"
T = TypeVar("T")


def amqp_url() -> str:
    """The broker of the processes started here: $AMQP_URL (tests/settings.py points it at the
    test run's own virtual host), else the local broker's default virtual host."""
    return os.environ.get("AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672//"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` in [0, 1]) of `values`; NaN when there are none.

    Nearest rank rather than interpolation: p99 of 1,000 latencies is one that was measured.
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = math.ceil(fraction * len(ordered))
    return ordered[max(0, min(len(ordered), rank) - 1)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    predicate: Callable[[], T], *, timeout: float, interval: float = 0.05, what: str = "condition"
) -> T:
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
    """This process's environment for the project's processes, on `amqp_url()`, with short call
    timeouts; `overrides` on top."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="levity_backend.settings",
        PYTHONUNBUFFERED="1",
        AMQP_URL=amqp_url(),
        # Short, yet ample for a charger's next frame, sent on the answer to Preparing, to reach
        # the gateway before the call is due (tests/e2e/test_auto_remote_start.py).
        OCPP_AUTO_REMOTE_START_DELAY="0.5",
        OCPP_CALL_TIMEOUT="5",
    )
    env.update(overrides)
    return env


def rabbitmqctl(*args: str) -> None:
    """`rabbitmqctl -q ARGS` (the broker's host, as root); raises naming what is missing."""
    import shutil

    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        raise RuntimeError(
            "rabbitmqctl not found: run on the RabbitMQ host, or set AMQP_URL to a virtual host "
            "of your own"
        )
    subprocess.run([ctl, "-q", *args], check=True, capture_output=True, timeout=60)


def add_vhost(vhost: str) -> str:
    """Create RabbitMQ virtual host `vhost` for guest; its AMQP URL."""
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    return f"amqp://guest:guest@127.0.0.1:5672/{vhost}"


def delete_vhost(vhost: str) -> None:
    with contextlib.suppress(subprocess.SubprocessError, OSError):
        rabbitmqctl("delete_vhost", vhost)


@contextlib.contextmanager
def rabbitmq_vhost(vhost: str) -> Iterator[str]:
    """A RabbitMQ virtual host of the caller's own while the block runs, so nothing else consumes
    its `cp.*` messages; its AMQP URL."""
    url = add_vhost(vhost)
    try:
        yield url
    finally:
        delete_vhost(vhost)


def recreate_database(name: str) -> str:
    """Database `name` on the local PostgreSQL, dropped first if it exists; its URL."""
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def migrate(env: dict[str, str]) -> None:
    """`manage.py migrate` on the database of `env`."""
    argv = [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"]
    subprocess.run(argv, env=env, cwd=ROOT, check=True)


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
    argv = [sys.executable, "-m", "gateway", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--ping-interval", "0", *(extra or [])]
    gateway = Process(name, argv, env, tmp / f"{name}.log").start()
    wait_until(lambda: health(port, tls=tls), timeout=30, what=f"{name} /health")
    return gateway, port


def _celery(app: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", app, *args, "-l", "info"]


def start_worker(
    tmp: Path,
    env: dict[str, str],
    *,
    name: str = "worker",
    concurrency: int = 2,
    app: str = "celery_app",
) -> Process:
    """A Celery worker (the configured pool, `CELERY_WORKER_POOL`) consuming `cp.*`, once it says
    it is ready."""
    options = [
        "-Q",
        "cp.*",
        "-c",
        str(concurrency),
        "-n",
        f"{name}-{os.getpid()}@%h",
    ]
    argv = _celery(app, "worker", *options, "--without-gossip", "--without-mingle")
    worker = Process(name, argv, env, tmp / f"{name}.log").start()
    worker.wait_for_log(" ready.", timeout=60)
    return worker


def start_beat(tmp: Path, env: dict[str, str], *, name: str = "beat") -> Process:
    """`celery beat`: the periodic housekeeping (stale calls, dead gateways, old frames)."""
    argv = _celery("celery_app", "beat", "-s", str(tmp / f"{name}-schedule"))
    beat = Process(name, argv, env, tmp / f"{name}.log").start()
    beat.wait_for_log("beat: Starting", timeout=60)
    return beat


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
