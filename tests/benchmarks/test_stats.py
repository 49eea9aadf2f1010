"""The load benchmark's counting: percentiles, outcomes, merging across processes, the mix."""

from __future__ import annotations

import math

import pytest

from benchmarks.load.mix import Mix
from benchmarks.load.stats import ANSWERED, CALLERROR, LOST, TIMEOUT, CallStats
from levity.devstack import percentile


def test_percentile_is_nearest_rank():
    values = [float(n) for n in range(1, 101)]  # 1..100
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile(values, 0.0) == 1.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0  # unsorted input
    assert math.isnan(percentile([], 0.5))


def test_outcomes_are_counted_and_callerrors_have_a_latency():
    stats = CallStats()
    heartbeat = stats.action("Heartbeat")
    heartbeat.sent = 4
    heartbeat.record(ANSWERED, 10.0)
    heartbeat.record(CALLERROR, 20.0, "InternalError")
    heartbeat.record(TIMEOUT, None)
    heartbeat.record(LOST, None)
    summary = stats.summary(2.0)["Heartbeat"]
    assert (summary["sent"], summary["answered"], summary["callerrors"]) == (4, 1, 1)
    assert (summary["timeouts"], summary["lost"]) == (1, 1)
    assert summary["error_codes"] == {"InternalError": 1}
    assert summary["throughput"] == 0.5
    assert summary["max_ms"] == 20.0


def test_stats_merge_across_the_process_boundary():
    one, two = CallStats(), CallStats()
    for stats, latency in ((one, 1.0), (two, 3.0)):
        stats.action("Heartbeat").sent += 1
        stats.action("Heartbeat").record(ANSWERED, latency)
    two.action("Authorize").sent += 1
    two.action("Authorize").record(ANSWERED, 2.0)
    merged = CallStats()
    for part in (one, two):
        merged.merge(CallStats.from_wire(part.to_wire()))
    summary = merged.summary(1.0)
    assert summary["Heartbeat"]["answered"] == 2
    assert summary["total"]["answered"] == 3
    assert summary["total"]["p50_ms"] == 2.0
    assert summary["total"]["max_ms"] == 3.0


def test_default_mix_is_a_whole_session():
    steps = list(Mix.parse("default").cycle())
    assert steps[:3] == ["Authorize", "StartTransaction", "Status:Charging"]
    assert steps[-2:] == ["StopTransaction", "Status:Available"]
    assert steps.count("MeterValues") == 6
    assert steps.count("Heartbeat") == 2


def test_heartbeat_mix_and_custom_mixes():
    assert list(Mix.parse("heartbeat").cycle()) == ["Heartbeat"]
    assert Mix.parse("meter=10,heartbeat=0") == Mix(meter=10, heartbeat=0, sessions=True)
    with pytest.raises(ValueError):
        Mix.parse("meters=3")
    with pytest.raises(ValueError):
        Mix.parse("sessions=0,heartbeat=0")
