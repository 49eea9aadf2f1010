"""Monitoring on real processes: the gateway's and the web app's /metrics, `levity up --flower`."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection
from ocpp.v16 import call
from prometheus_client.parser import text_string_to_metric_families

from charging import conf
from levity.devstack import Process, charger, free_port, health, wait_until

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def frames(samples: Samples, direction: str, message_type: str, action: str) -> float:
    labels = {"direction": direction, "message_type": message_type, "action": action}
    return samples.get(("levity_gateway_frames_total", frozenset(labels.items())), 0.0)


def test_gateway_and_web_metrics_move_through_the_real_stack(e2e_db, client) -> None:
    url = f"http://127.0.0.1:{e2e_db.port}/metrics"
    status, text = http_get(url)
    assert status == 200
    before = parse(text)

    async def session() -> Samples:
        async with charger(e2e_db.port, "MON-1") as cp:
            await cp.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
            await cp.call(call.Heartbeat())
            return parse(http_get(url)[1])

    during = asyncio.run(session())
    for direction, message_type in (("in", "CALL"), ("out", "CALLRESULT")):
        for action in ("BootNotification", "Heartbeat"):
            moved = frames(during, direction, message_type, action)
            assert moved - frames(before, direction, message_type, action) == 1
    assert during[("levity_gateway_connections", frozenset())] >= 1

    # The worker wrote to the database; the web app's /metrics (no multiprocess directory
    # here) serves the database gauges.
    web = parse(client.get("/metrics").content.decode())
    recent = (
        "levity_messages_recent",
        frozenset({"direction": "in", "action": "Heartbeat"}.items()),
    )
    assert web[recent] == 1


def test_levity_up_flower_and_multiprocess_metrics(transactional_db, own_vhost, tmp_path: Path):
    db = connection.settings_dict
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_stale-1.db").write_bytes(b"left over")  # removed on start
    port, web_port, flower_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "AMQP_URL": own_vhost,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        # The production processes need all three services (levity/preflight.py).
        "REDIS_URL": os.environ.get("REDIS_URL") or conf.get("REDIS_URL"),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "FLOWER_BASIC_AUTH": "ops:pw-123",
        "DJANGO_SETTINGS_MODULE": "levity_backend.settings",
    }
    levity = shutil.which("levity", path=os.path.dirname(sys.executable)) or "levity"
    command = [levity, "up", "--port", str(port), "--web-port", str(web_port), "--flower"]
    command += ["--flower-port", str(flower_port), "--concurrency", "2"]
    up = Process("levity-up-flower", command, env, tmp_path / "up.log").start()
    try:
        up.wait_for_log("levity is up on AMQP_URL broker", timeout=120)
        assert f"http://127.0.0.1:{flower_port}/  (user ops, password pw-123)" in up.log()
        assert "celery -A celery_app control enable_events" in up.log()
        assert f"http://127.0.0.1:{web_port}/metrics" in up.log()
        up.wait_for_log(" ready.", timeout=60)
        wait_until(lambda: health(port), timeout=60, what="gateway health")
        assert not (metrics_dir / "counter_stale-1.db").exists()

        async def session() -> None:
            async with charger(port, "MON-UP") as cp:
                for _ in range(3):
                    await cp.call(call.Heartbeat())

        asyncio.run(session())
        web = f"http://127.0.0.1:{web_port}/metrics"
        wait_until(lambda: http_get(web)[0] == 200, timeout=60, what="web /metrics")
        samples = parse(http_get(web)[1])
        labels = {"message_type": "CALL", "action": "Heartbeat", "result": "ok"}
        # Summed over the worker's prefork children through the shared directory.
        assert samples[("levity_messages_handled_total", frozenset(labels.items()))] == 3
        assert not any(name.startswith("levity_gateway_") for name, _ in samples)

        flower = f"http://127.0.0.1:{flower_port}/api/workers"
        wait_until(lambda: http_get(flower)[0] == 401, timeout=60, what="Flower to refuse")
        auth = base64.b64encode(b"ops:pw-123").decode()
        assert http_get(flower, {"Authorization": f"Basic {auth}"})[0] == 200
    finally:
        assert up.stop(timeout=30) == 0, up.log()[-3000:]
    # The directory given was kept (only emptied on start); the worker's files are in it.
    assert any(metrics_dir.glob("counter_*.db"))
