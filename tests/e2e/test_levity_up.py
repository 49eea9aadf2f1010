"""`levity up` on embedded defaults (SQLite, in-process transport) serves a charger."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import urllib.request

import pytest
from ocpp.v16 import call

from .harness import ROOT, Process, charger, free_port, health, wait_until

pytestmark = pytest.mark.e2e


def test_levity_up_on_embedded_defaults_serves_a_boot_notification(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"AMQP_URL", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(LEVITY_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    port, web_port = free_port(), free_port()
    levity = shutil.which("levity", path=os.path.dirname(sys.executable)) or "levity"
    up = Process(
        "levity-up",
        [levity, "up", "--port", str(port), "--web-port", str(web_port)],
        env,
        tmp_path / "up.log",
    ).start()
    try:
        up.wait_for_log("levity is up on embedded defaults", timeout=120)
        wait_until(lambda: health(port), timeout=60, what="gateway health")

        async def boot():
            async with charger(port, "UP-1", subprotocol=False) as cp:
                return await cp.call(
                    call.BootNotification(charge_point_vendor="V", charge_point_model="M")
                )

        assert asyncio.run(boot()).status == "Accepted"

        def admin_login_page():
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{web_port}/admin/login/", timeout=2
                ) as response:
                    return response.status == 200 and b"Django" in response.read()
            except OSError:
                return False

        assert wait_until(admin_login_page, timeout=60, what="the admin login page")
        rows = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select vendor from charging_chargepoint where id='UP-1'\").fetchone()[0])",
                str(tmp_path / "levity.sqlite3"),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        assert rows.stdout.strip() == "V"
    finally:
        assert up.stop(timeout=30) == 0, up.log()[-3000:]
