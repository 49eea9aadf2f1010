"""Round-trip latency of a command: `charging.commands.call` (this process) → Celery
`levity.send_call` (worker) → RabbitMQ `levity.calls` → gateway → charger → CALLRESULT →
gateway → worker → PostgreSQL → Redis wake-up (or database polling) → back in this process.

    python -m benchmarks.command_latency [--calls 200] [--concurrency 2] [--no-redis]

Creates (and drops) the database `levity_bench_cmd` on the local PostgreSQL, starts a gateway
and a worker, connects one simulated charger and sends ClearCache commands one after another.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from tests.e2e.harness import AMQP_URL, ROOT, base_env, charger, start_gateway, start_worker

DB = "levity_bench_cmd"
CP = "BENCH-CMD"


def recreate_database() -> str:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    return f"postgres://postgres@127.0.0.1:5432/{DB}"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def hold_charger(port: int, ready: threading.Event, done: threading.Event) -> None:
    async def run() -> None:
        async with charger(port, CP):
            ready.set()
            await asyncio.to_thread(done.wait)

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (-c)")
    parser.add_argument(
        "--no-redis", action="store_true", help="wait by polling the database instead of Redis"
    )
    args = parser.parse_args()

    redis_url = "" if args.no_redis else os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    env = base_env(DATABASE_URL=recreate_database(), REDIS_URL=redis_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    os.environ.update(
        DATABASE_URL=env["DATABASE_URL"],
        AMQP_URL=AMQP_URL,
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="levity_backend.settings",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from charging import commands
    from charging.models import ChargePoint

    tmp = Path(tempfile.mkdtemp(prefix="levity-bench-"))
    worker = start_worker(tmp, env, concurrency=args.concurrency)
    gateway, port = start_gateway(tmp, env)
    ready, done = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_charger, args=(port, ready, done), daemon=True)
    holder.start()
    latencies: list[float] = []
    try:
        ready.wait(30)
        deadline = time.monotonic() + 30
        while not ChargePoint.objects.filter(id=CP, connected=True).exists():
            assert time.monotonic() < deadline, "the charger never showed up connected"
            time.sleep(0.05)
        for _ in range(20):  # warm-up: connections, prefork children, caches
            commands.clear_cache(CP, wait=30)
        began = time.perf_counter()
        for _ in range(args.calls):
            start = time.perf_counter()
            answer = commands.clear_cache(CP, wait=30)
            latencies.append((time.perf_counter() - start) * 1000)
            assert answer == {"status": "Accepted"}, answer
        elapsed = time.perf_counter() - began
    finally:
        done.set()
        holder.join(5)
        gateway.stop()
        worker.stop()
    waiting = "database polling" if args.no_redis else "Redis BLPOP"
    print(
        f"command round trip, {args.calls} sequential ClearCache, worker -c {args.concurrency}, {waiting}"
    )
    print(
        f"  p50 {percentile(latencies, 0.50):.2f} ms  p90 {percentile(latencies, 0.90):.2f} ms  "
        f"p99 {percentile(latencies, 0.99):.2f} ms  max {max(latencies):.2f} ms  "
        f"mean {statistics.mean(latencies):.2f} ms"
    )
    print(f"  throughput {len(latencies) / elapsed:.0f} commands/s over {elapsed:.1f} s")


if __name__ == "__main__":
    main()
