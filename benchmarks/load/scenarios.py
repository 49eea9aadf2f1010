"""The scenarios of the load benchmark, each against the full stack and the baseline in the
same run: throughput, latency, idle connections, reconnect storm, commands."""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import signal
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.load.generator import BOOTED, CONNECTED, LoadRun, LoadSpec, RunResult
from benchmarks.load.procstats import ProcessSampler, rss_bytes
from benchmarks.load.report import comparison_table, run_report, write_json
from benchmarks.load.stats import ActionStats, errors
from benchmarks.load.systems import Baseline, FullStack, System, rabbitmq_vhost, scratch_dir, settle
from levity.devstack import percentile

P99_LIMIT_MS = 500.0  # the throughput scenario's limit


@contextlib.contextmanager
def systems(args: argparse.Namespace, *, web: bool = False) -> Iterator[Iterator[System]]:
    """Yields an iterator that starts each system of `--systems` in turn (stopping the one
    before)."""
    tmp = scratch_dir()
    print(f"logs in {tmp}")

    def each() -> Iterator[System]:
        for name in args.systems:
            if name == "baseline":
                with Baseline(tmp) as system:
                    yield system
            else:
                with (
                    rabbitmq_vhost() as amqp_url,
                    FullStack(
                        tmp,
                        amqp_url,
                        concurrency=args.worker_concurrency,
                        web=web,
                        transport_only=name == "transport",
                    ) as system,
                ):
                    yield system
            settle(2)

    yield each()


def spec_from(args: argparse.Namespace, url: str, **changes: Any) -> LoadSpec:
    spec = LoadSpec(
        url=url,
        chargers=args.chargers,
        rate=args.rate or 50.0,
        duration=args.duration,
        mix=args.mix,
        processes=args.processes,
        call_timeout=args.call_timeout,
        connect_rate=args.connect_rate,
        boot_timeout=args.boot_timeout,
    )
    return replace(spec, **changes)


def _total(result: dict[str, Any]) -> dict[str, Any]:
    return result["calls"]["total"]


def _sustained(summary: dict[str, Any], target: float) -> bool:
    total = _total(summary)
    return (
        summary["booted"] == summary["chargers"]
        and errors(summary["calls"]) == 0
        and total["p99_ms"] <= P99_LIMIT_MS
        and total["throughput"] >= 0.95 * target
    )


def _save(args: argparse.Namespace, scenario: str, data: dict[str, Any]) -> None:
    path = Path(args.json or f"artifacts/loadbench/{scenario}.json")
    data = {"scenario": scenario, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **data}
    write_json(path, data)
    print(f"JSON: {path}")


def compare(
    results: dict[str, dict[str, Any]], rows: list[tuple[str, str, str]], *, section: str = ""
) -> str:
    """The comparison table of `(label, key, format)` rows: `results[system][section][key]`."""

    def get(name: str, key: str) -> float:
        if name not in results:
            return math.nan
        value = results[name][section] if section else results[name]
        return value[key]

    return comparison_table(
        [(label, get("ours", key), get("baseline", key), fmt) for label, key, fmt in rows]
    )


def _heartbeating(
    args: argparse.Namespace, system: System, prefix: str, **changes: Any
) -> tuple[LoadRun, bool, float]:
    """`args.chargers` chargers that only heartbeat, started and booted: the run (still going:
    the caller goes on and stops it), whether all booted in time, and the seconds it took."""
    spec = spec_from(
        args,
        system.url,
        mix="heartbeat",
        rate=args.chargers / args.heartbeat_interval,
        id_prefix=prefix,
        boot=getattr(args, "boot", True),
    )
    spec = replace(spec, **changes)
    load = LoadRun(spec, progress=not args.quiet).start()
    began = time.monotonic()
    try:
        booted = load.wait_booted(
            args.chargers, args.boot_timeout, label=f"{system.name}: connecting"
        )
    except BaseException:
        load.terminate()
        raise
    return load, booted, time.monotonic() - began


# -- run: one load against a URL ------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    watch = dict(item.split("=", 1) for item in args.watch)
    result = LoadRun(spec_from(args, args.url), progress=not args.quiet).run(
        {name: int(pid) for name, pid in watch.items()}
    )
    summary = result.summary()
    print(run_report(args.url, summary))
    _save(args, "run", summary)


# -- throughput -----------------------------------------------------------------------------


def _step(args: argparse.Namespace, system: System, target: float, step: int) -> dict[str, Any]:
    spec = spec_from(
        args, system.url, rate=target, duration=args.step_duration, id_prefix=f"T{step}"
    )
    summary = LoadRun(spec, progress=not args.quiet).run(system.watch()).summary()
    summary["sustained"] = _sustained(summary, target)
    total = _total(summary)
    print(
        f"{system.name}: target {target:.0f}/s → {total['throughput']:.0f}/s, "
        f"p99 {total['p99_ms']:.0f} ms, errors {errors(summary['calls'])}, "
        f"{'sustained' if summary['sustained'] else 'NOT sustained'}",
        flush=True,
    )
    return summary


def _ramp(args: argparse.Namespace, system: System) -> dict[str, Any]:
    """Rates start_rate × step_factor^n until one is not sustained, then one bisection."""
    steps: list[dict[str, Any]] = []
    rate, good, bad = args.start_rate, None, None
    while rate <= args.max_rate:
        steps.append(_step(args, system, rate, len(steps) + 1))
        if not steps[-1]["sustained"]:
            bad = rate
            break
        good = steps[-1]
        rate *= args.step_factor
    if good is not None and bad is not None and args.refine:
        steps.append(_step(args, system, (good["rate_target"] + bad) / 2, len(steps) + 1))
        if steps[-1]["sustained"]:
            good = steps[-1]
    if good:
        print(run_report(f"{system.name} at its highest sustained rate", good))
    return {"best": good, "steps": steps}


def throughput(args: argparse.Namespace) -> None:
    found: dict[str, dict[str, Any]] = {}
    with systems(args) as each:
        for system in each:
            found[system.name] = _ramp(args, system)
    best = {
        name: (f["best"] and _total(f["best"])["throughput"]) or math.nan
        for name, f in found.items()
    }
    p99 = {
        name: (f["best"] and _total(f["best"])["p99_ms"]) or math.nan for name, f in found.items()
    }
    print(f"\nthroughput: highest sustained calls/s (p99 ≤ {P99_LIMIT_MS:.0f} ms, no errors)")
    print(
        comparison_table(
            [
                (
                    "sustained calls/s",
                    best.get("ours", math.nan),
                    best.get("baseline", math.nan),
                    "{:.0f}",
                ),
                (
                    "p99 ms at that rate",
                    p99.get("ours", math.nan),
                    p99.get("baseline", math.nan),
                    "{:.1f}",
                ),
            ]
        )
    )
    if "transport" in best:
        print(
            f"transport alone (gateway + RabbitMQ + Celery, answers from memory): "
            f"{best['transport']:.0f} calls/s, p99 {p99['transport']:.1f} ms"
        )
    _save(args, "throughput", {"systems": found, "sustained_calls_per_s": best})


# -- latency --------------------------------------------------------------------------------


def _baseline_max(path: Path) -> float:
    data = json.loads(path.read_text())
    value = data["sustained_calls_per_s"].get("baseline")
    if not value:
        raise SystemExit(f"{path} has no baseline maximum: run the throughput scenario first")
    return float(value)


def latency(args: argparse.Namespace) -> None:
    rate = args.rate or _baseline_max(Path(args.throughput_json)) / 2
    print(f"latency at {rate:.0f} calls/s")
    results: dict[str, dict[str, Any]] = {}
    with systems(args) as each:
        for system in each:
            spec = spec_from(args, system.url, rate=rate, id_prefix="L")
            summary = LoadRun(spec, progress=not args.quiet).run(system.watch()).summary()
            results[system.name] = summary
            print(run_report(system.name, summary))
    rows = []
    for key, label in (
        ("p50_ms", "p50 ms"),
        ("p95_ms", "p95 ms"),
        ("p99_ms", "p99 ms"),
        ("max_ms", "max ms"),
        ("throughput", "calls/s"),
    ):
        rows.append(
            (
                label,
                *(
                    _total(results[n])[key] if n in results else math.nan
                    for n in ("ours", "baseline")
                ),
                "{:.1f}",
            )
        )
    print(f"\nlatency at {rate:.0f} calls/s")
    print(comparison_table(rows))
    _save(args, "latency", {"rate": rate, "systems": results})


# -- idle connections -----------------------------------------------------------------------


def idle(args: argparse.Namespace) -> None:
    results: dict[str, dict[str, Any]] = {}
    with systems(args) as each:
        for system in each:
            server = system.server_pid()
            settle(1)
            before = rss_bytes(server)
            load, _, boot_seconds = _heartbeating(args, system, "I")
            try:
                sampler = ProcessSampler(system.watch()).start()
                load.go()
                load.hold(args.duration, label=f"{system.name}: idle")
                after = rss_bytes(server)
                connected = load.counter(CONNECTED)
                load.stop()
                processes = sampler.stop()
                result = load.collect(processes).summary()
            finally:
                load.terminate()
            result.update(
                server_rss_before_mib=before / 2**20,
                server_rss_after_mib=after / 2**20,
                connected_at_end=connected,
                connect_seconds=boot_seconds,
                kib_per_connection=(after - before) / 1024 / max(connected, 1),
            )
            results[system.name] = result
            print(run_report(system.name, result))
            print(
                f"{system.name}: {connected} connected; server RSS {before / 2**20:.1f} → "
                f"{after / 2**20:.1f} MiB: {result['kib_per_connection']:.1f} KiB per connection"
            )

    print(
        f"\nidle connections: {args.chargers} chargers, Heartbeat every {args.heartbeat_interval:.0f} s"
    )
    print(
        compare(
            results,
            [
                ("connected", "connected_at_end", "{:.0f}"),
                ("server RSS MiB", "server_rss_after_mib", "{:.1f}"),
                ("KiB per connection", "kib_per_connection", "{:.1f}"),
                ("seconds to connect all", "connect_seconds", "{:.1f}"),
            ],
        )
    )
    _save(args, "idle", {"systems": results})


# -- reconnect storm ------------------------------------------------------------------------


def storm(args: argparse.Namespace) -> None:
    results: dict[str, dict[str, Any]] = {}
    with systems(args) as each:
        for system in each:
            # Connected without booting, then the backlog drained, so that what is timed is
            # the storm only; after the restart every charger boots (and sends its
            # StatusNotifications) on its new connection.
            load, booted, _ = _heartbeating(args, system, "S", boot=False, boot_on_reconnect=True)
            try:
                _wait_drained(system, args.boot_timeout)
                load.go()
                first = load.counter(BOOTED)
                connected = load.counter(CONNECTED)
                killed_at = time.time()
                system.kill_server(signal.SIGKILL)
                system.restart_server()
                restarted_at = time.time()
                drained = load.wait_booted(
                    first + args.chargers,
                    args.storm_timeout,
                    label=f"{system.name}: re-booting",
                    slot=BOOTED,
                )
                load.stop()
                result: RunResult = load.collect()
            finally:
                load.terminate()
            again = [t for t in result.boot_times if t > killed_at]
            summary = result.summary()
            summary.update(
                connected_before=connected,
                all_connected_before=booted,
                rebooted=len(again),
                drained=drained,
                restart_seconds=restarted_at - killed_at,
                drain_seconds=(again[args.chargers - 1] - killed_at)
                if len(again) >= args.chargers
                else math.nan,
                p50_reboot_seconds=percentile([t - killed_at for t in again], 0.5),
                reboots_per_second=len(again) / max(again[-1] - killed_at, 1e-9) if again else 0.0,
            )
            results[system.name] = summary
            print(run_report(system.name, summary))
            print(
                f"{system.name}: killed with {connected} connected; server back after "
                f"{summary['restart_seconds']:.1f} s; {len(again)} re-booted; all within "
                f"{summary['drain_seconds']:.1f} s"
            )

    print(f"\nreconnect storm: {args.chargers} chargers, server killed (SIGKILL) and restarted")
    print(
        compare(
            results,
            [
                ("seconds until all re-booted", "drain_seconds", "{:.1f}"),
                ("p50 seconds to re-boot", "p50_reboot_seconds", "{:.1f}"),
                ("seconds until the server listened", "restart_seconds", "{:.1f}"),
                ("re-booted", "rebooted", "{:.0f}"),
                ("re-boots per second", "reboots_per_second", "{:.0f}"),
            ],
        )
    )
    _save(args, "storm", {"systems": results})


# -- commands -------------------------------------------------------------------------------


def _remote_starts(
    system: System, ids: list[str], parallel: int, wait: float, rate: float = 0.0
) -> tuple[ActionStats, Counter[str], list[tuple[float, float]]]:
    """POST one RemoteStartTransaction per id, `parallel` at a time (and at most `rate` a
    second when given): the latency of each request, the chargers' answers by status, and
    (seconds from the first request, ms) of each answered one.

    A charger in a transaction answers Rejected: that is an answer like Accepted (the command
    went through), so its latency counts."""
    stats = ActionStats()
    statuses: Counter[str] = Counter()
    timeline: list[tuple[float, float]] = []
    lock = threading.Lock()
    queue = list(reversed(ids))
    parsed = urllib.parse.urlsplit(system.api_url)
    headers = {"Content-Type": "application/json"}
    if system.token:
        headers["Authorization"] = f"Token {system.token}"
    began = time.perf_counter()
    issued = 0

    def worker() -> None:
        nonlocal issued
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=wait + 30)
        while True:
            with lock:
                if not queue:
                    break
                cp_id = queue.pop()
                at = began + issued / rate if rate else 0.0
                issued += 1
            if at:
                time.sleep(max(0.0, at - time.perf_counter()))
            body = json.dumps({"idTag": f"CMD-{cp_id}"[:20], "connectorId": 1})
            path = f"/api/v1/charge-points/{cp_id}/calls/RemoteStartTransaction/?wait={wait:.0f}"
            sent = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                answer = json.loads(response.read() or b"{}")
                elapsed = (time.perf_counter() - sent) * 1000
                status = (answer.get("response") or {}).get("status") or ""
                ok = response.status == 200 and status in ("Accepted", "Rejected")
                code = "" if ok else f"HTTP {response.status} {answer.get('status', '')}".strip()
            except (OSError, http.client.HTTPException, ValueError) as exc:
                elapsed, ok, code, status = None, False, type(exc).__name__, ""
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=wait + 30)
            with lock:
                stats.sent += 1
                if ok:
                    stats.record("answered", elapsed)
                    statuses[status] += 1
                    timeline.append((sent - began, elapsed))
                elif elapsed is None:
                    stats.record("lost", None)
                else:
                    stats.record("callerror", elapsed, code)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return stats, statuses, sorted(timeline)


def commands(args: argparse.Namespace) -> None:
    """Commands to heartbeating chargers, or, with --rate, to chargers sending --mix at that
    rate (the load the commands' latency is measured under)."""
    background = {"mix": args.mix, "rate": args.rate} if args.rate else {}
    results: dict[str, dict[str, Any]] = {}
    with systems(args, web=True) as each:
        for system in each:
            load, _, _ = _heartbeating(args, system, "C", **background)
            try:
                load.go()
                _wait_presence(system, args)
                # Not counted, as in benchmarks/command_latency.py: each gunicorn thread's first
                # request opens its database and broker connections.
                warm = [f"C-{n % args.chargers}" for n in range(args.warmup)]
                _remote_starts(system, warm, args.parallel, args.wait, args.command_rate)
                ids = [f"C-{(args.warmup + n) % args.chargers}" for n in range(args.calls)]
                began = time.monotonic()
                sampler = ProcessSampler(system.watch()).start()
                stats, statuses, timeline = _remote_starts(
                    system, ids, args.parallel, args.wait, args.command_rate
                )
                seconds = time.monotonic() - began
                processes = sampler.stop()
                time.sleep(1)  # the StartTransactions that follow
                load.stop()
                result = load.collect(processes)
            finally:
                load.terminate()
            charger_calls = result.stats.summary(max(result.seconds, 1e-9))
            summary = {
                "calls": args.calls,
                "parallel": args.parallel,
                "command_rate": args.command_rate,
                "warmup": args.warmup,
                "background": background,
                "seconds": seconds,
                "http": stats.summary(seconds),
                "answers": dict(statuses),
                "timeline": timeline,
                "remote_starts_accepted_by_chargers": result.remote_starts,
                "charger_calls": charger_calls,
                "processes": processes,
            }
            results[system.name] = summary
            h = summary["http"]
            print(
                f"{system.name}: {h['answered']}/{args.calls} answered {dict(statuses)}, "
                f"{h['callerrors'] + h['lost']} failed {h['error_codes']}; p50 {h['p50_ms']:.1f} ms, "
                f"p99 {h['p99_ms']:.1f} ms, {h['throughput']:.1f} commands/s"
            )
            if background:
                total = charger_calls["total"]
                print(
                    f"{system.name}: meanwhile the chargers' calls: {total['throughput']:.0f}/s, "
                    f"p50 {total['p50_ms']:.1f} ms, p99 {total['p99_ms']:.1f} ms, "
                    f"errors {errors(charger_calls)}"
                )

    under = f", under {args.mix} at {args.rate:.0f} calls/s" if args.rate else ""
    print(
        f"\ncommands: {args.calls} RemoteStartTransaction over HTTP, {args.parallel} at a time{under}"
    )
    print(
        compare(
            results,
            [
                ("p50 ms", "p50_ms", "{:.1f}"),
                ("p95 ms", "p95_ms", "{:.1f}"),
                ("p99 ms", "p99_ms", "{:.1f}"),
                ("max ms", "max_ms", "{:.1f}"),
                ("commands/s", "throughput", "{:.1f}"),
                ("answered", "answered", "{:.0f}"),
            ],
            section="http",
        )
    )
    _save(args, "commands", {"systems": results})


def _wait_drained(system: System, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while system.backlog() and time.monotonic() < deadline:
        time.sleep(1)


def _wait_presence(system: System, args: argparse.Namespace) -> None:
    """The full stack routes a command only once the worker has recorded the connection."""
    if isinstance(system, FullStack):
        deadline = time.monotonic() + 60
        while system.connected_count() < args.chargers and time.monotonic() < deadline:
            time.sleep(0.5)


SCENARIOS: dict[str, Callable[[argparse.Namespace], None]] = {
    "run": run,
    "throughput": throughput,
    "latency": latency,
    "idle": idle,
    "storm": storm,
    "commands": commands,
}
