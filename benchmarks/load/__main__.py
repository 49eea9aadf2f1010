"""`python -m benchmarks.load SCENARIO [options]`: see benchmarks/load/__init__.py."""

from __future__ import annotations

import argparse

from benchmarks.load import __doc__ as DOC
from benchmarks.load.generator import raise_open_file_limit
from benchmarks.load.scenarios import SCENARIOS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load",
        description=DOC,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="scenario", required=True)

    def scenario(name: str, help: str, **defaults: object) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--chargers", type=int, default=defaults.get("chargers", 100))
        p.add_argument(
            "--rate", type=float, default=defaults.get("rate"), help="CALLs/s over all chargers"
        )
        p.add_argument(
            "--duration",
            type=float,
            default=defaults.get("duration", 30),
            help="seconds of load after the boot phase",
        )
        p.add_argument(
            "--mix",
            default="default",
            help="default | heartbeat | meter=N,heartbeat=N[,sessions=0]",
        )
        p.add_argument(
            "--processes", type=int, default=defaults.get("processes", 1), help="client processes"
        )
        p.add_argument(
            "--call-timeout", type=float, default=30.0, help="seconds a charger waits for an answer"
        )
        p.add_argument(
            "--connect-rate",
            type=float,
            default=defaults.get("connect_rate", 200),
            help="new connections/s in the boot phase",
        )
        p.add_argument(
            "--boot-timeout",
            type=float,
            default=defaults.get("boot_timeout", 120),
            help="longest boot phase, seconds",
        )
        p.add_argument(
            "--json",
            help="where to write the JSON report (default artifacts/loadbench/SCENARIO.json)",
        )
        p.add_argument("--quiet", action="store_true", help="no progress bar")
        if name != "run":
            p.add_argument(
                "--systems",
                nargs="+",
                choices=["baseline", "ours", "transport"],
                default=["baseline", "ours"],
                help="what to run against, in order (default baseline and ours; transport: "
                "ours with the worker answering from memory, no database)",
            )
            p.add_argument(
                "-c",
                "--worker-concurrency",
                type=int,
                default=2,
                help="Celery worker concurrency (prefork processes, or threads with CELERY_WORKER_POOL=threads)",
            )
        p.set_defaults(func=SCENARIOS[name])
        return p

    run = scenario("run", "one load against a running central system at --url")
    run.add_argument(
        "--url", required=True, help="ws://HOST:PORT/ocpp/ (the charge point id is appended)"
    )
    run.add_argument(
        "--watch",
        action="append",
        default=[],
        metavar="NAME=PID",
        help="report RSS/CPU of PID (and children)",
    )

    t = scenario(
        "throughput",
        "raise the rate until p99 > 500 ms or errors; the highest sustained calls/s",
        chargers=100,
        duration=15,
    )
    t.add_argument("--start-rate", type=float, default=10)
    t.add_argument("--step-factor", type=float, default=1.5)
    t.add_argument("--max-rate", type=float, default=5000)
    t.add_argument("--step-duration", type=float, default=15, help="seconds per rate step")
    t.add_argument(
        "--refine", type=int, default=1, help="1: one bisection step after the first failure"
    )

    lat = scenario(
        "latency",
        "a fixed rate (default half the baseline's maximum): p50/p99",
        chargers=100,
        duration=45,
    )
    lat.add_argument(
        "--throughput-json",
        default="artifacts/loadbench/throughput.json",
        help="where to read the baseline's maximum when --rate is not given",
    )

    for name, help, chargers, hb in (
        ("idle", "chargers that only heartbeat: the server's memory per connection", 10_000, 300.0),
        (
            "storm",
            "kill the server under connected chargers, restart it: time until all re-booted",
            5_000,
            300.0,
        ),
        (
            "commands",
            "RemoteStartTransaction through the HTTP API to connected chargers: p50/p99",
            200,
            300.0,
        ),
    ):
        p = scenario(
            name,
            help,
            chargers=chargers,
            processes=4 if chargers > 1000 else 1,
            connect_rate=100,
            boot_timeout=300,
            duration=30,
        )
        p.add_argument(
            "--heartbeat-interval",
            type=float,
            default=hb,
            help="seconds between a charger's Heartbeats",
        )
        if name == "idle":
            p.add_argument(
                "--boot",
                action="store_true",
                help="BootNotification and StatusNotifications first (default: Heartbeats only)",
            )
        if name == "storm":
            p.add_argument(
                "--storm-timeout",
                type=float,
                default=120,
                help="give up waiting for the re-boots after this long",
            )
        if name == "commands":
            p.add_argument("--calls", type=int, default=200)
            p.add_argument("--parallel", type=int, default=10, help="HTTP requests at a time")
            p.add_argument("--wait", type=float, default=30, help="the API's ?wait=")
            p.add_argument(
                "--command-rate",
                type=float,
                default=0.0,
                help="at most this many commands/s (default: as fast as --parallel allows)",
            )
            p.add_argument(
                "--warmup", type=int, default=20, help="commands sent first, not counted"
            )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    # Before anything starts: the servers under test inherit the limit (10,000 sockets).
    raise_open_file_limit()
    args.func(args)


if __name__ == "__main__":
    main()
