"""Round-trip latency of a command: `charging.commands.call` (this process) → Celery
`levity.send_call` (worker) → RabbitMQ `levity.calls` → gateway → charger → CALLRESULT →
gateway → worker → PostgreSQL → Redis wake-up (or database polling) → back in this process.

    python -m benchmarks.command_latency [--calls 200] [--concurrency 2] [--no-redis]
    python -m benchmarks.command_latency --api [--no-redis]
    python -m benchmarks.command_latency --embedded

Creates (and drops) the database `levity_bench_cmd` on the local PostgreSQL, starts a gateway
and a worker, connects one simulated charger and sends ClearCache commands one after another.

`--api` times the whole HTTP round trip instead: `POST /api/v1/charge-points/<id>/calls/
ClearCache/?wait=10` on gunicorn (`--workers 2 --threads 8`, as `levity up` runs it, one
keep-alive connection) → the same path → the HTTP answer. `--embedded` does the same against
`python -m levity.embedded` on its defaults (SQLite, in-process transport, database polling).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from levity.devstack import (
    ROOT,
    Process,
    amqp_url,
    base_env,
    charger,
    free_port,
    health,
    percentile,
    recreate_database,
    start_gateway,
    start_worker,
    wait_until,
)

DB = "levity_bench_cmd"
CP = "BENCH-CMD"
WARM_UP = 20  # connections, prefork children, caches


def hold_charger(port: int, ready: threading.Event, done: threading.Event) -> None:
    async def run() -> None:
        async with charger(port, CP):
            ready.set()
            await asyncio.to_thread(done.wait)

    asyncio.run(run())


def timed(calls: int, one: Callable[[], None]) -> tuple[list[float], float]:
    """Latencies (ms) of `calls` sequential runs of `one` after a warm-up, and the seconds taken."""
    for _ in range(WARM_UP):
        one()
    latencies: list[float] = []
    began = time.perf_counter()
    for _ in range(calls):
        start = time.perf_counter()
        one()
        latencies.append((time.perf_counter() - start) * 1000)
    return latencies, time.perf_counter() - began


def report(title: str, latencies: list[float], elapsed: float) -> None:
    print(title)
    print(
        f"  p50 {percentile(latencies, 0.50):.2f} ms  p90 {percentile(latencies, 0.90):.2f} ms  "
        f"p99 {percentile(latencies, 0.99):.2f} ms  max {max(latencies):.2f} ms  "
        f"mean {statistics.mean(latencies):.2f} ms"
    )
    print(f"  throughput {len(latencies) / elapsed:.0f} commands/s over {elapsed:.1f} s")


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
    )


def api_token(env: dict[str, str]) -> str:
    """A user and its DRF token in the database `env` points at, as an operator would make them."""
    manage = [sys.executable, "manage.py"]
    create = "from django.contrib.auth.models import User; User.objects.create_superuser('bench', '', None)"
    subprocess.run(
        [*manage, "shell", "-c", create], env=env, cwd=ROOT, check=True, capture_output=True
    )
    made = subprocess.run(
        [*manage, "drf_create_token", "bench"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.split()[2]  # "Generated token <key> for user bench"


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


class Api:
    """One keep-alive HTTP connection to the API, authenticated with a token."""

    def __init__(self, port: int, token: str) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self._headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
        self._conn.request(method, f"/api/v1/{path}", body=body, headers=self._headers)
        response = self._conn.getresponse()
        return response.status, json.loads(response.read())

    def clear_cache(self) -> None:
        status, body = self.request("POST", f"charge-points/{CP}/calls/ClearCache/?wait=10", b"{}")
        assert status == 200 and body["response"] == {"status": "Accepted"}, (status, body)

    def wait_connected(self) -> None:
        def connected() -> bool:
            status, body = self.request("GET", f"charge-points/{CP}/")
            return status == 200 and bool(body.get("connected"))

        wait_until(connected, timeout=30, what="the charger to show up connected")

    def close(self) -> None:
        self._conn.close()


def with_charger(port: int, run: Callable[[], tuple[list[float], float]]):
    """`run()` while one simulated charger holds a connection to the gateway on `port`."""
    ready, done = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_charger, args=(port, ready, done), daemon=True)
    holder.start()
    try:
        assert ready.wait(30), "the charger never connected"
        return run()
    finally:
        done.set()
        holder.join(5)


def over_api(port: int, web_port: int, token: str, calls: int) -> tuple[list[float], float]:
    api = Api(web_port, token)

    def run() -> tuple[list[float], float]:
        api.wait_connected()
        return timed(calls, api.clear_cache)

    try:
        return with_charger(port, run)
    finally:
        api.close()


def bench_python(args: argparse.Namespace, env: dict[str, str], tmp: Path) -> None:
    os.environ.update(
        DATABASE_URL=env["DATABASE_URL"],
        AMQP_URL=amqp_url(),
        REDIS_URL=env["REDIS_URL"],
        DJANGO_SETTINGS_MODULE="levity_backend.settings",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from charging import commands
    from charging.models import ChargePoint

    def clear_cache() -> None:
        answer = commands.clear_cache(CP, wait=30)
        assert answer == {"status": "Accepted"}, answer

    def run() -> tuple[list[float], float]:
        wait_until(
            lambda: ChargePoint.objects.filter(id=CP, connected=True).exists(),
            timeout=30,
            what="the charger to show up connected",
        )
        return timed(args.calls, clear_cache)

    worker = start_worker(tmp, env, concurrency=args.concurrency)
    gateway, port = start_gateway(tmp, env)
    try:
        latencies, elapsed = with_charger(port, run)
    finally:
        gateway.stop()
        worker.stop()
    waiting = "Redis BLPOP" if env["REDIS_URL"] else "database polling"
    report(
        f"command round trip, {args.calls} sequential ClearCache, worker -c {args.concurrency}, "
        f"{waiting}",
        latencies,
        elapsed,
    )


def start_web(tmp: Path, env: dict[str, str]) -> tuple[Process, int]:
    """gunicorn as `levity up` runs it (`--workers 2 --threads 8`) on a free port, listening."""
    web_port = free_port()
    web = Process(
        "web",
        [
            sys.executable,
            "-m",
            "gunicorn",
            "levity_backend.wsgi",
            "--bind",
            f"127.0.0.1:{web_port}",
            "--workers",
            "2",
            "--threads",
            "8",
            "--timeout",
            "150",
        ],
        env,
        tmp / "web.log",
    ).start()
    try:
        wait_until(lambda: listening(web_port), timeout=30, what="gunicorn")
    except BaseException:
        web.stop()
        raise
    return web, web_port


def bench_api(args: argparse.Namespace, env: dict[str, str], tmp: Path) -> None:
    env = {**env, "LOG_LEVEL": "WARNING"}
    token = api_token(env)
    web, web_port = start_web(tmp, env)
    worker = start_worker(tmp, env, concurrency=args.concurrency)
    gateway, port = start_gateway(tmp, env)
    try:
        latencies, elapsed = over_api(port, web_port, token, args.calls)
    finally:
        web.stop()
        gateway.stop()
        worker.stop()
    waiting = "Redis BLPOP" if env["REDIS_URL"] else "database polling"
    report(
        f"API round trip, {args.calls} sequential POST .../calls/ClearCache/?wait=10, gunicorn "
        f"--workers 2 --threads 8, worker -c {args.concurrency}, {waiting}",
        latencies,
        elapsed,
    )


def bench_embedded(args: argparse.Namespace, tmp: Path) -> None:
    # The embedded defaults, as `levity up` without AMQP_URL runs them: SQLite in the data
    # directory, no broker, no Redis.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "AMQP_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="levity_backend.settings",
        LEVITY_DATA_DIR=str(tmp),
        AMQP_URL="",
        REDIS_URL="",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    migrate(env)
    token = api_token(env)
    port, web_port = free_port(), free_port()
    levity = Process(
        "levity-embedded",
        [
            sys.executable,
            "-m",
            "levity.embedded",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--web-port",
            str(web_port),
            "--ping-interval",
            "0",
            "--log-level",
            "warning",
        ],
        env,
        tmp / "embedded.log",
    ).start()
    try:
        wait_until(lambda: health(port) and listening(web_port), timeout=60, what="levity")
        latencies, elapsed = over_api(port, web_port, token, args.calls)
    finally:
        levity.stop()
    report(
        f"API round trip, {args.calls} sequential POST .../calls/ClearCache/?wait=10, "
        "embedded defaults (one process, SQLite, database polling)",
        latencies,
        elapsed,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (-c)")
    parser.add_argument(
        "--no-redis", action="store_true", help="wait by polling the database instead of Redis"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--api", action="store_true", help="time HTTP API requests on gunicorn")
    mode.add_argument(
        "--embedded", action="store_true", help="time HTTP API requests on levity.embedded"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="levity-bench-"))
    if args.embedded:
        bench_embedded(args, tmp)
        return
    redis_url = "" if args.no_redis else os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    env = base_env(DATABASE_URL=recreate_database(DB), REDIS_URL=redis_url)
    migrate(env)
    if args.api:
        bench_api(args, env, tmp)
    else:
        bench_python(args, env, tmp)


if __name__ == "__main__":
    main()
