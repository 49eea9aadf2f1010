"""Round-trip latency of a Heartbeat through the whole stack: charger → gateway → RabbitMQ →
Celery worker → PostgreSQL → gateway → charger.

    python -m benchmarks.heartbeat_latency [--calls 1000] [--chargers 1] [--concurrency 2]

Creates (and drops) the database `levity_bench` on the local PostgreSQL, starts a gateway and a
worker, sends the Heartbeats one after another per charger and prints p50/p90/p99/max.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from levity.devstack import (
    ROOT,
    base_env,
    percentile,
    raw_charger,
    recreate_database,
    start_gateway,
    start_worker,
)

DB = "levity_bench"


async def heartbeats(port: int, cp_id: str, calls: int) -> list[float]:
    latencies = []
    async with raw_charger(port, cp_id) as ws:
        for n in range(calls):
            frame = json.dumps([2, str(n), "Heartbeat", {}])
            began = time.perf_counter()
            await ws.send(frame)
            answer = json.loads(await asyncio.wait_for(ws.recv(), 30))
            latencies.append((time.perf_counter() - began) * 1000)
            assert answer[0] == 3 and answer[1] == str(n), answer
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=1000, help="Heartbeats per charger")
    parser.add_argument("--chargers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (-c)")
    args = parser.parse_args()

    env = base_env(DATABASE_URL=recreate_database(DB))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="levity-bench-"))
    worker = start_worker(tmp, env, concurrency=args.concurrency)
    gateway, port = start_gateway(tmp, env)
    try:
        asyncio.run(heartbeats(port, "BENCH-WARMUP", 50))
        began = time.perf_counter()

        async def everyone() -> list[list[float]]:
            return await asyncio.gather(
                *(heartbeats(port, f"BENCH-{i}", args.calls) for i in range(args.chargers))
            )

        results = asyncio.run(everyone())
        elapsed = time.perf_counter() - began
    finally:
        gateway.stop()
        worker.stop()
    latencies = [value for result in results for value in result]
    print(
        f"heartbeat round trip, {args.chargers} charger(s) × {args.calls} calls, worker -c {args.concurrency}"
    )
    print(
        f"  p50 {percentile(latencies, 0.50):.2f} ms  p90 {percentile(latencies, 0.90):.2f} ms  "
        f"p99 {percentile(latencies, 0.99):.2f} ms  max {max(latencies):.2f} ms  mean {statistics.mean(latencies):.2f} ms"
    )
    print(f"  throughput {len(latencies) / elapsed:.0f} calls/s over {elapsed:.1f} s")


if __name__ == "__main__":
    main()
