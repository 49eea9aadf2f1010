"""The two central systems under test, started and stopped by the scenarios: our full stack
(gateway, Celery workers, PostgreSQL, RabbitMQ, Redis, optionally gunicorn) and the baseline
(`benchmarks/baseline.py`, one process)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg

from levity import devstack
from levity.devstack import (
    PLAIN_HTTP_PRODUCTION,
    ROOT,
    Process,
    base_env,
    free_port,
    start_gateway,
    start_worker,
    wait_until,
)

DB = "levity_loadbench"


@contextlib.contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A RabbitMQ virtual host of this run's own; its AMQP URL."""
    with devstack.rabbitmq_vhost(f"levity-bench-{os.getpid()}") as url:
        yield url


def queue_depth(amqp_url: str, queue: str = "cp.*") -> int:
    """Messages in `queue` not yet acknowledged (ready + unacked), by `rabbitmqctl`."""
    vhost = amqp_url.rsplit("/", 1)[1]
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages", "--no-table-headers"],
        capture_output=True,
        text=True,
    )
    for line in listed.stdout.splitlines():
        name, _, messages = line.rpartition("\t")
        if name == queue and messages.strip().isdigit():
            return int(messages)
    return 0


class System:
    """A central system under test: where chargers connect, where commands go, what to watch."""

    name = ""
    url = ""  # ws://host:port/ocpp/
    api_url = ""  # http://host:port/
    token = ""

    def watch(self) -> dict[str, int]:
        raise NotImplementedError

    def backlog(self) -> int:
        """Events received but not handled yet."""
        return 0

    def kill_server(self, sig: int = signal.SIGKILL) -> None:
        """Kill the process that holds the websockets (the storm scenario)."""
        raise NotImplementedError

    def restart_server(self) -> None:
        raise NotImplementedError

    def server_pid(self) -> int:
        raise NotImplementedError


class FullStack(System):
    """Gateway + Celery worker on a fresh database, RabbitMQ virtual host of its own,
    Redis; with `web`, gunicorn and an API token too."""

    name = "ours"

    def __init__(
        self,
        tmp: Path,
        amqp_url: str,
        *,
        concurrency: int = 2,
        web: bool = False,
        database: str = DB,
        transport_only: bool = False,
    ) -> None:
        # transport_only: the echo worker (benchmarks/load/echo_worker.py), no database work.
        self.worker_app = "benchmarks.load.echo_worker" if transport_only else "celery_app"
        self.name = "transport" if transport_only else "ours"
        self.database = database
        self.tmp = tmp
        self.amqp_url = amqp_url
        self.concurrency = concurrency
        self.web = web
        self.port = free_port()
        self.procs: dict[str, Process] = {}
        self.env: dict[str, str] = {}

    def __enter__(self) -> FullStack:
        self.env = base_env(
            DATABASE_URL=devstack.recreate_database(self.database),
            AMQP_URL=self.amqp_url,
            REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            LOG_LEVEL="WARNING",
            # DEBUG off, as in production (DEBUG keeps every SQL query in memory).
            **PLAIN_HTTP_PRODUCTION,
        )
        manage = [sys.executable, "manage.py"]
        subprocess.run(
            [*manage, "migrate", "--noinput", "-v", "0"], env=self.env, cwd=ROOT, check=True
        )
        try:
            self._start_worker()
            self._start_gateway()
            if self.web:
                self._start_web()
        except BaseException:
            self.__exit__()
            raise
        self.url = f"ws://127.0.0.1:{self.port}/ocpp/"
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(self.procs.values()):
            proc.stop()
        devstack.drop_database(self.database)

    def _start_worker(self) -> None:
        # As the other benchmarks and the e2e tests run it: the configured pool, `-l info`.
        self.procs["worker"] = start_worker(
            self.tmp, self.env, concurrency=self.concurrency, app=self.worker_app
        )

    def _start_gateway(self) -> None:
        self.procs["gateway"], _ = start_gateway(self.tmp, self.env, port=self.port)

    def _start_web(self) -> None:
        from benchmarks.command_latency import api_token, start_web

        # A user with a token (drf_create_token), made a superuser, as README "HTTP API" says.
        self.token = api_token(self.env)
        promote = (
            "from django.contrib.auth.models import User; "
            "User.objects.filter(username='bench').update(is_superuser=True, is_staff=True)"
        )
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", promote],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        self.procs["web"], web_port = start_web(self.tmp, self.env)
        self.api_url = f"http://127.0.0.1:{web_port}/"

    def backlog(self) -> int:
        return queue_depth(self.amqp_url)

    def connected_count(self) -> int:
        """Charge points the workers have recorded as connected."""
        url = self.env["DATABASE_URL"].replace("postgres://", "postgresql://")
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM charging_chargepoint WHERE connected"
            ).fetchone()
            return int(row[0]) if row else 0

    def watch(self) -> dict[str, int]:
        watched = {name: proc.proc.pid for name, proc in self.procs.items() if proc.proc}
        if "worker" in watched:
            watched["workers"] = watched.pop("worker")
        return watched

    def server_pid(self) -> int:
        proc = self.procs["gateway"].proc
        assert proc is not None
        return proc.pid

    def kill_server(self, sig: int = signal.SIGKILL) -> None:
        self.procs["gateway"].stop(sig=sig)

    def restart_server(self) -> None:
        self._start_gateway()


class Baseline(System):
    """`python -m benchmarks.baseline` on free ports."""

    name = "baseline"

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.port = free_port()
        self.http_port = free_port()
        self.proc: Process | None = None
        self.url = f"ws://127.0.0.1:{self.port}/ocpp/"
        self.api_url = f"http://127.0.0.1:{self.http_port}/"

    def __enter__(self) -> Baseline:
        self.restart_server()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc:
            self.proc.stop()

    def restart_server(self) -> None:
        self.proc = Process(
            "baseline",
            [
                sys.executable,
                "-m",
                "benchmarks.baseline",
                "--port",
                str(self.port),
                "--http-port",
                str(self.http_port),
            ],
            dict(os.environ),
            self.tmp / "baseline.log",
        ).start()
        wait_until(self._healthy, timeout=30, what="baseline /health")

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}health", timeout=1):
                return True
        except OSError:
            return False

    def watch(self) -> dict[str, int]:
        return {"baseline": self.server_pid()}

    def server_pid(self) -> int:
        assert self.proc is not None and self.proc.proc is not None
        return self.proc.proc.pid

    def kill_server(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.stop(sig=sig)


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="levity-loadbench-"))


def settle(seconds: float) -> None:
    """A pause between runs, so one system's leftovers (closing sockets) do not load the next."""
    time.sleep(seconds)
