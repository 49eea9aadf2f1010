"""What one event costs a worker, without Celery or the network: `handle_event` in-process on
PostgreSQL, per action of the load generator's default mix (time and SQL statements).

    python -m benchmarks.worker_cost [--chargers 20] [--cycles 5] [--profile out.html]

Creates (and drops) the database `levity_workercost`, boots `--chargers` charge points, then
plays `--cycles` charging sessions per charger, interleaved as the load generator sends them;
prints the time, SQL statements and CPU (this process's and its PostgreSQL backend's) per event.
With `--profile`, pyinstrument records the measured part and writes its report.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from benchmarks.load import mix
from levity.devstack import drop_database, recreate_database

DB = "levity_workercost"


def production_settings() -> None:
    """Production mode (DEBUG off) for the in-process benchmarks, its secure defaults opted out
    of as a benchmark may (docs/security.md): unknown charge points accepted, without keys."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "levity_backend.settings")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "levity-benchmark-only-" + "x" * 40)
    os.environ.setdefault("OCPP_UNKNOWN_CHARGE_POINTS", "accept")
    os.environ.setdefault("OCPP_ALLOW_CHARGERS_WITHOUT_KEY", "true")


class Charger:
    """One simulated charger's frames, with the transaction id our answers give it."""

    def __init__(self, cp_id: str) -> None:
        self.cp_id = cp_id
        self.conn = f"{cp_id}-conn"
        self.sequence = 0
        self.meter_wh = 0
        self.transaction_id = 0
        self.id_tag = f"TAG-{cp_id}"[:20]

    def envelope(self, kind: str, **fields: Any) -> dict[str, Any]:
        from charging.protocol import envelope as env

        return dict(
            env.inbound(
                kind, cp=self.cp_id, conn=self.conn, gateway="bench", reply_to="bench", **fields
            )
        )

    def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.sequence += 1
        return self.envelope("frame", text=json.dumps([2, str(self.sequence), action, payload]))

    def boot(self) -> Iterator[tuple[str, dict[str, Any]]]:
        yield "connect", self.envelope("connect", remote="127.0.0.1", subprotocol="ocpp1.6")
        yield "BootNotification", self.call("BootNotification", mix.boot_notification())
        for connector in (0, 1):
            yield (
                "StatusNotification",
                self.call("StatusNotification", mix.status_notification(connector, "Available")),
            )

    def frame(self, step: str) -> tuple[str, dict[str, Any]]:
        self.meter_wh += 100
        if step == "Authorize":
            return step, self.call(step, mix.authorize(self.id_tag))
        if step == "StartTransaction":
            return step, self.call(step, mix.start_transaction(self.id_tag, self.meter_wh))
        if step.startswith("Status:"):
            status = mix.status_notification(1, step.partition(":")[2])
            return "StatusNotification", self.call("StatusNotification", status)
        if step == "MeterValues":
            return step, self.call(step, mix.meter_values(self.transaction_id, self.meter_wh))
        if step == "StopTransaction":
            payload = mix.stop_transaction(self.transaction_id, self.id_tag, self.meter_wh)
            return step, self.call(step, payload)
        return step, self.call(step, {})

    def take_answer(self, step: str, reply: dict[str, Any]) -> None:
        if step == "StartTransaction" and reply.get("send"):
            self.transaction_id = json.loads(reply["send"])[2]["transactionId"]


def _backend_process(connection: Any) -> Any:
    """The PostgreSQL server process serving `connection` (on this host)."""
    import psutil

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return psutil.Process(cursor.fetchone()[0])


def _cpu(process: Any) -> float:
    times = process.cpu_times()
    return times.user + times.system


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chargers", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=5, help="charging sessions per charger")
    parser.add_argument(
        "--profile",
        help="write a pyinstrument report here (HTML if the name ends in .html, else text)",
    )
    parser.add_argument("--database", default=DB, help="created and dropped (default %(default)s)")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = recreate_database(args.database)
    production_settings()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from charging.dispatch import handle_event

    call_command("migrate", verbosity=0)
    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    chargers = [Charger(f"BENCH{n:04d}") for n in range(args.chargers)]
    for charger in chargers:
        for _step, envelope in charger.boot():
            handle_event(envelope)

    cycle = list(mix.Mix().cycle())
    seconds: dict[str, list[float]] = defaultdict(list)
    queries: dict[str, list[int]] = defaultdict(list)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    backend = _backend_process(connection)
    began_backend = _cpu(backend)
    began, began_cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        for _ in range(args.cycles):
            for step in cycle:
                for charger in chargers:
                    action, envelope = charger.frame(step)
                    before, started = statements, time.perf_counter()
                    handled = handle_event(envelope)
                    seconds[action].append(time.perf_counter() - started)
                    queries[action].append(statements - before)
                    charger.take_answer(step, dict(handled.reply))
    elapsed, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    backend_cpu = _cpu(backend) - began_backend
    if profiler is not None:
        profiler.stop()
        with open(args.profile, "w") as out:
            html = args.profile.endswith(".html")
            out.write(profiler.output_html() if html else profiler.output_text(show_all=False))
    connection.close()
    drop_database(args.database)

    total = sum(len(values) for values in seconds.values())
    print(f"{total} events, {args.chargers} chargers, {args.cycles} sessions each")
    print(f"{'action':<20} {'events':>7} {'mean ms':>8} {'p50 ms':>7} {'SQL':>5}")
    for action, values in sorted(seconds.items()):
        print(
            f"{action:<20} {len(values):>7} {statistics.fmean(values) * 1000:>8.2f} "
            f"{statistics.median(values) * 1000:>7.2f} {statistics.fmean(queries[action]):>5.1f}"
        )
    all_queries = [n for values in queries.values() for n in values]
    print(
        f"{'all (mix)':<20} {total:>7} {elapsed / total * 1000:>8.2f} {'':>7} "
        f"{statistics.fmean(all_queries):>5.1f}"
    )
    print(
        f"one process: {total / elapsed:.0f} events/s; this process's CPU "
        f"{cpu / total * 1000:.2f} ms per event; its PostgreSQL backend's "
        f"{backend_cpu / total * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
