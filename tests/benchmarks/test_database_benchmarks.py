"""The in-process database benchmarks at a tiny size: they still run against today's schema
(the prune benchmark fills tables by SQL, so a new NOT NULL column breaks it silently)."""

from __future__ import annotations

import os
import subprocess
import sys

from levity.devstack import ROOT


def _run(*argv: str) -> str:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    done = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_worker_cost_measures_every_action():
    out = _run(
        "benchmarks.worker_cost",
        "--chargers",
        "2",
        "--cycles",
        "1",
        "--database",
        "levity_smoke_wc",
    )
    for action in ("Heartbeat", "MeterValues", "StartTransaction", "StopTransaction"):
        assert action in out
    assert "CPU" in out and "per event" in out


def test_prune_fills_prunes_and_measures():
    out = _run(
        "benchmarks.prune",
        *("--messages", "4000", "--chargers", "2", "--cycles", "1"),
        *("--database", "levity_smoke_prune"),
    )
    assert "filled: 4,000 old messages" in out
    assert "p99" in out
