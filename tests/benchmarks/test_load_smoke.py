"""The load generator for a few seconds against the baseline (real processes)."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

from benchmarks.load.generator import LoadRun, LoadSpec
from benchmarks.load.report import write_json
from benchmarks.load.systems import Baseline, FullStack, System, rabbitmq_vhost

FIELDS = {"sent", "answered", "callerrors", "timeouts", "lost", "throughput"} | {
    f"{p}_ms" for p in ("p50", "p95", "p99", "max")
}


def clean_run(system: System, *, chargers: int, rate: float) -> dict[str, Any]:
    """3 s of the default mix against `system`; every charger booted, every call answered."""
    spec = LoadSpec(url=system.url, chargers=chargers, rate=rate, duration=3, id_prefix="SMOKE")
    summary = LoadRun(spec, progress=False).run(system.watch()).summary()
    total = summary["calls"]["total"]
    assert summary["booted"] == chargers
    assert total["answered"] > 0
    assert total["callerrors"] == total["timeouts"] == total["lost"] == 0
    return summary


def test_generator_against_the_baseline(tmp_path):
    with Baseline(tmp_path) as baseline:
        summary = clean_run(baseline, chargers=10, rate=40)
    total = summary["calls"]["total"]
    assert set(total) >= FIELDS
    assert {"Authorize", "StartTransaction", "total"} <= set(summary["calls"])
    assert summary["boot_calls"]["BootNotification"]["answered"] == 10
    assert set(summary["processes"]["baseline"]) >= {"rss_peak_mib", "cpu_percent"}
    write_json(tmp_path / "run.json", summary)
    assert json.loads((tmp_path / "run.json").read_text())["calls"]["total"]["answered"] > 0


def test_chargers_accept_remote_start_through_the_baseline_api(tmp_path):
    with Baseline(tmp_path) as baseline:
        spec = LoadSpec(url=baseline.url, chargers=2, rate=1, duration=60, mix="heartbeat")
        load = LoadRun(spec, progress=False).start()
        try:
            assert load.wait_booted(2, 30)
            load.go()
            conn = http.client.HTTPConnection("127.0.0.1", baseline.http_port, timeout=30)
            body = json.dumps({"idTag": "T1", "connectorId": 1})
            conn.request("POST", "/api/v1/charge-points/LOAD-1/calls/RemoteStartTransaction/", body)
            response = conn.getresponse()
            answer = json.loads(response.read())
            conn.close()
            time.sleep(1)  # the StartTransaction that follows
            load.stop()
            result = load.collect()
        finally:
            load.terminate()
    assert response.status == 200 and answer["response"] == {"status": "Accepted"}
    assert result.remote_starts == 1
    assert result.stats.action("StartTransaction").answered == 1


def test_generator_against_the_full_stack(tmp_path):
    """Gateway, prefork worker, PostgreSQL and a virtual host of its own: every call answered."""
    with (
        rabbitmq_vhost() as amqp_url,
        FullStack(tmp_path, amqp_url, database="levity_loadbench_smoke") as stack,
    ):
        summary = clean_run(stack, chargers=5, rate=5)
    assert set(summary["processes"]) == {"gateway", "workers"}


def test_generator_against_the_transport_alone(tmp_path):
    """The echo worker (benchmarks/load/echo_worker.py) behind a real gateway and RabbitMQ: every
    call answered, nothing stored."""
    with (
        rabbitmq_vhost() as amqp_url,
        FullStack(
            tmp_path, amqp_url, database="levity_loadbench_echo", transport_only=True
        ) as stack,
    ):
        clean_run(stack, chargers=5, rate=5)
        assert stack.name == "transport"
        assert stack.connected_count() == 0  # the database saw nothing
