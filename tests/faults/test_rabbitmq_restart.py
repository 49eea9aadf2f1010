"""RabbitMQ restarted under load: gateways keep their websockets, CALLs that meet the outage are
answered InternalError at once (the charger sends them again), everything flows again soon
after the broker is back, and nothing the broker had taken is lost or done twice."""

from __future__ import annotations

import asyncio
import shutil
import time

import pytest
from django.db import connection
from kombu import Connection as AmqpConnection

from charging.models import ConnectionEvent
from levity.devstack import rabbitmqctl, wait_until

from .harness import (
    CallStats,
    FaultStack,
    assert_sessions_stored_once,
    group_pids,
    quiet,
    session_charger,
)

pytestmark = [pytest.mark.faults, pytest.mark.timeout(240)]

CHARGERS = 10
BEFORE, DOWN, AFTER = 3.0, 3.0, 12.0  # seconds of load before, broker stopped, load after
PAUSE = 0.05  # seconds between two CALLs of one charger
REPLY_TIMEOUT = 5.0  # the gateway's
RETRY_PAUSE = 0.5  # a charger's pause before sending a CALL again after an InternalError
PREFIX = "FAULT-MQ-"


def _broker_up(url: str) -> bool:
    try:
        with AmqpConnection(url, connect_timeout=1) as amqp:
            amqp.connect()
        return True
    except Exception:  # noqa: BLE001 - any failure: not up (yet)
        return False


def _outage(url: str) -> tuple[float, float]:
    """Stop the RabbitMQ application (every connection is cut), wait DOWN seconds, start it.
    Returns when it went down and when it took connections again (monotonic)."""
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("needs rabbitmqctl to restart the local RabbitMQ")
    began = time.monotonic()
    try:
        rabbitmqctl("stop_app")
        time.sleep(DOWN)
    finally:
        # Whatever happened, leave RabbitMQ running for the rest of the test run.
        rabbitmqctl("start_app")
        wait_until(lambda: _broker_up(url), timeout=60, what="RabbitMQ to take connections")
    return began, time.monotonic()


def test_rabbitmq_restart_under_load_loses_nothing(faults: FaultStack):
    worker = faults.start_worker()
    gateway, port = faults.start_gateway(extra=["--reply-timeout", str(REPLY_TIMEOUT)])
    pids = group_pids(worker)
    stats = {f"{PREFIX}{i}": CallStats() for i in range(CHARGERS)}
    sent: dict[str, list[str]] = {}
    outage: list[float] = []

    async def run() -> None:
        stop = asyncio.Event()
        chargers = [
            asyncio.create_task(
                session_charger(
                    port,
                    cp_id,
                    charger_stats,
                    stop,
                    sent,
                    # A CALL must never hang: each attempt is answered (InternalError at worst)
                    # within the reply timeout, or the charger counts a timeout.
                    answer_within=REPLY_TIMEOUT + 5,
                    pause=PAUSE,
                    retry_pause=RETRY_PAUSE,
                )
            )
            for cp_id, charger_stats in stats.items()
        ]
        try:
            await asyncio.sleep(BEFORE)
            outage.extend(await asyncio.to_thread(_outage, faults.amqp_url))
            await asyncio.sleep(AFTER)
        finally:
            stop.set()
            await asyncio.gather(*chargers)

    asyncio.run(run())
    wait_until(lambda: quiet(port), timeout=60, what="the gateway to deliver its last events")
    connection.close()

    began, ended = outage
    total = CallStats()
    for charger_stats in stats.values():
        for name in ("calls", "sent", "retries", "internal_errors", "timeouts", "stale"):
            setattr(total, name, getattr(total, name) + getattr(charger_stats, name))
        total.latencies += charger_stats.latencies
    # Per charger: from the broker's return to its first CALL answered after it.
    recovery = max(
        min((at for at in s.answered_at if at > ended), default=float("inf")) - ended
        for s in stats.values()
    )
    errors_during = sum(began <= at <= ended + 1 for s in stats.values() for at in s.error_at)
    print(
        f"\nRabbitMQ stopped {ended - began:.1f} s (stop_app, {DOWN:g} s, start_app): "
        f"{total.summary()}; InternalErrors while it was away: {errors_during}; every charger "
        f"answered again at most {recovery:.1f} s after its return"
    )

    # Both processes lived through it and kept their sockets: one connect per charger. A task
    # running when the connection is lost cannot send its late ack (prefork: Celery terminates
    # the child, worker_cancel_long_running_tasks_on_connection_loss; threads: the task ends and
    # its ack is lost); the broker redelivers the message, whose stored answer is replayed.
    assert gateway.proc is not None and gateway.proc.poll() is None
    assert worker.proc is not None and worker.proc.poll() is None
    assert worker.proc.pid in group_pids(worker) and len(group_pids(worker)) == len(pids)
    connects = ConnectionEvent.objects.filter(charge_point__id__startswith=PREFIX, kind="connect")
    assert connects.count() == CHARGERS
    assert total.timeouts == 0  # nothing hung: every attempt answered, if only InternalError
    assert errors_during > 0, "no CALL met the outage: the test proved nothing"
    assert recovery < 10.0
    assert_sessions_stored_once(sent)
