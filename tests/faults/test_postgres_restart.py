"""PostgreSQL restarted under load: the workers retry in-process and live on, nothing is lost."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from levity.devstack import wait_until

from .harness import CallStats, assert_sessions_stored_once, group_pids, quiet, session_charger

pytestmark = [pytest.mark.faults, pytest.mark.timeout(180)]

CHARGERS = 5
BEFORE, AFTER = 3.0, 4.0  # seconds of load before the restart, and after PostgreSQL is back
PAUSE = 0.05  # seconds between two CALLs of one charger
REPLY_TIMEOUT = 30.0  # the gateway's (the default): longer than any retry window here
PREFIX = "FAULT-PG-"


def _cluster() -> list[str]:
    """`pg_ctlcluster` arguments of the local cluster; fails, saying why, when it cannot be
    controlled (run `pytest -m "not faults"` on such a machine)."""
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        pytest.fail("needs Debian's pg_ctlcluster to restart the local PostgreSQL")
    if os.geteuid() != 0:
        pytest.fail("restarting PostgreSQL needs root")
    settings = connection.settings_dict
    if (settings["HOST"] or "127.0.0.1") not in ("127.0.0.1", "localhost"):
        pytest.fail("the test database is not on this machine")
    versions = sorted(os.listdir("/etc/postgresql"))
    return ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"]


def _ready() -> bool:
    return (
        subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False, timeout=10).returncode
        == 0
    )


def _outage(cluster: list[str], down: float) -> tuple[float, float]:
    """Restart PostgreSQL (`down` = 0), or stop it for `down` seconds and start it again; fast
    mode, so active sessions are cut. Returns when it stopped and started accepting connections
    (monotonic, polled every few milliseconds: `pg_ctlcluster` itself returns later)."""
    seen: list[tuple[float, bool]] = []
    polling = threading.Event()

    def poll() -> None:
        while not polling.is_set():
            seen.append((time.monotonic(), _ready()))
            time.sleep(0.01)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        if down:
            subprocess.run([*cluster, "stop", "--mode", "fast"], check=True, timeout=60)
            time.sleep(down)
            subprocess.run([*cluster, "start"], check=True, timeout=60)
        else:
            subprocess.run([*cluster, "restart", "--mode", "fast"], check=True, timeout=60)
        wait_until(_ready, timeout=60, interval=0.05, what="PostgreSQL to accept connections")
    finally:
        polling.set()
        poller.join()
        # Whatever happened, leave PostgreSQL running for the rest of the test run.
        if not _ready():
            subprocess.run([*cluster, "start"], check=False, timeout=60)
            wait_until(_ready, timeout=60, what="PostgreSQL to start")
    refused = [at for at, ready in seen if not ready]
    assert refused, "PostgreSQL never refused a connection"
    began = refused[0]
    ended = next(at for at, ready in seen if ready and at > began)
    return began, ended


@pytest.mark.parametrize(
    ("down", "retry_seconds"),
    [
        pytest.param(0.0, 25.0, id="restart"),
        pytest.param(4.0, 25.0, id="down-4s"),
        pytest.param(5.0, 1.5, id="down-5s-past-retry-window"),
    ],
)
def test_postgres_outage_under_load_loses_nothing(faults, down, retry_seconds):
    """`restart`: what an operator does (PostgreSQL is back within a second). `down-4s`: an
    outage inside the retry window (OCPP_DB_RETRY_SECONDS, default 25 s): chargers wait,
    nobody sees an error. Past the window the worker answers InternalError and the charger
    sends the same CALL again."""
    cluster = _cluster()
    faults.env["OCPP_DB_RETRY_SECONDS"] = str(retry_seconds)
    worker = faults.start_worker()
    _, port = faults.start_gateway(extra=["--reply-timeout", str(REPLY_TIMEOUT)])
    pids = group_pids(worker)
    stats = CallStats()
    sent: dict[str, list[str]] = {}
    outage: list[float] = []

    async def run() -> None:
        stop = asyncio.Event()
        chargers = [
            asyncio.create_task(
                session_charger(
                    port,
                    f"{PREFIX}{i}",
                    stats,
                    stop,
                    sent,
                    # Longer than the gateway's reply timeout: every answer is the server's.
                    answer_within=REPLY_TIMEOUT + 10,
                    pause=PAUSE,
                )
            )
            for i in range(CHARGERS)
        ]
        try:
            await asyncio.sleep(BEFORE)
            outage.extend(await asyncio.to_thread(_outage, cluster, down))
            await asyncio.sleep(AFTER)
        finally:
            stop.set()
            await asyncio.gather(*chargers)

    # This process's own connection dies with the server: close it before (Django opens a new
    # one on the next query) and after (in case anything opened one meanwhile).
    connection.close()
    asyncio.run(run())
    connection.close()
    wait_until(lambda: quiet(port), timeout=60, what="the gateway to deliver its last events")

    began, ended = outage
    # CALLs the outage caught: sent before it ended, answered after it began.
    caught = [
        (at - latency, at)
        for latency, at in zip(stats.latencies, stats.answered_at, strict=True)
        if at - latency <= ended and at >= began
    ]
    recovery = max((at - ended for _, at in caught), default=0.0)
    retried = worker.log().count("database error, retrying")
    gave_up = worker.log().count("database unavailable, giving up")
    print(
        f"\nPostgreSQL outage {ended - began:.1f}s (retry window {retry_seconds:g}s): "
        f"{stats.summary()}; in-process retries={retried}, given up={gave_up}; "
        f"CALLs caught={len(caught)}, answered at most {recovery:.2f}s after it ended"
    )

    # The worker lived through it: same main process (and prefork children, if any).
    assert worker.proc is not None and worker.proc.poll() is None
    assert group_pids(worker) == pids
    assert "WorkerLostError" not in worker.log()
    assert retried > 0, "no event met the outage: the test proved nothing"
    assert caught
    assert stats.timeouts == 0
    if ended - began < retry_seconds:
        assert stats.internal_errors == 0
        assert gave_up == 0
    else:
        assert stats.internal_errors > 0  # and each was followed by a retry that got through
    # Back to normal within a few backoff steps (at most 2 s each) of PostgreSQL's return.
    assert recovery < 5.0
    assert_sessions_stored_once(sent)
