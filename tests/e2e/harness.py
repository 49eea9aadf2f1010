"""Real processes for end-to-end tests: gateway, Celery worker, `levity up`, and a charger client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

ROOT = Path(__file__).resolve().parents[2]
AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


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


def base_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="levity_backend.settings",
        PYTHONUNBUFFERED="1",
        AMQP_URL=AMQP_URL,
        OCPP_AUTO_REMOTE_START_DELAY="0.2",
        OCPP_CALL_TIMEOUT="5",
    )
    env.update(overrides)
    return env


def start_gateway(
    tmp: Path, env: dict[str, str], *, name: str = "gateway", extra: list[str] | None = None
) -> tuple[Process, int]:
    port = free_port()
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
    wait_until(lambda: health(port), timeout=30, what=f"{name} /health")
    return gateway, port


def start_worker(
    tmp: Path, env: dict[str, str], *, name: str = "worker", concurrency: int = 2
) -> Process:
    worker = Process(
        name,
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "celery_app",
            "worker",
            "-Q",
            "cp.*",
            "-c",
            str(concurrency),
            "-P",
            "prefork",
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


def health(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
            return json.loads(response.read())
    except OSError:
        return None


class SimulatedChargePoint(ChargePoint):
    """The `ocpp` package's charge point, answering the CALLs our server sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remote_starts: list[dict[str, Any]] = []
        self.remote_start_status = "Accepted"

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, connector_id: int | None = None, **extra: Any):
        self.remote_starts.append(
            {"id_tag": id_tag, "connector_id": connector_id, "at": time.monotonic()}
        )
        return call_result.RemoteStartTransaction(status=self.remote_start_status)


@dataclass
class Charger:
    cp: SimulatedChargePoint
    ws: Any
    task: asyncio.Task = field(repr=False)


@contextlib.asynccontextmanager
async def charger(
    port: int, cp_id: str, *, path: str = "ocpp", subprotocol: bool = True
) -> AsyncIterator[SimulatedChargePoint]:
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/{path}/{cp_id}",
        subprotocols=["ocpp1.6"] if subprotocol else None,
        ping_interval=None,
        open_timeout=10,
    )
    cp = SimulatedChargePoint(cp_id, ws, response_timeout=15)
    task = asyncio.create_task(cp.start())
    try:
        yield cp
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await ws.close()


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
