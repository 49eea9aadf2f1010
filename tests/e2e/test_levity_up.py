"""`levity up` on embedded defaults (one process: SQLite, in-process transport, web app) serves a
charger and, on its first run, prints an admin login that works; with the services set it runs
the production processes and creates no user."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from ocpp.v16 import call

from charging import conf
from levity.devstack import ROOT, Process, charger, free_port, health, wait_until

pytestmark = pytest.mark.e2e

SQL_PROBE = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
vendor, = db.execute("select vendor from charging_chargepoint where id = 'UP-1'").fetchone()
start, stop, reason = db.execute("select meter_start, meter_stop, stop_reason from charging_transaction").fetchone()
samples, = db.execute("select count(*) from charging_metervalue").fetchone()
print(vendor, start, stop, reason, samples)
"""


USERS_PROBE = """
import sqlite3, sys
print(*sqlite3.connect(sys.argv[1]).execute("select username from auth_user"))
"""
BANNER_LOGIN = re.compile(r"^ +user (\S+)  password (\S+)  \(created now, shown this once\)$", re.M)


@contextlib.contextmanager
def levity_up_embedded(
    tmp_path: Path, *, log: str = "up.log"
) -> Iterator[tuple[int, int, dict[str, str], Process]]:
    """`levity up` with no service configured: (gateway port, web port, environment, process);
    its data (the SQLite file) in `tmp_path`, its output in `tmp_path / log`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"AMQP_URL", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(LEVITY_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    port, web_port = free_port(), free_port()
    levity = shutil.which("levity", path=os.path.dirname(sys.executable)) or "levity"
    command = [levity, "up", "--port", str(port), "--web-port", str(web_port)]
    up = Process("levity-up", command, env, tmp_path / log).start()
    try:
        up.wait_for_log("levity is up on embedded defaults", timeout=120)
        wait_until(lambda: health(port), timeout=60, what="gateway health")
        yield port, web_port, env, up
    finally:
        assert up.stop(timeout=30) == 0, up.log()[-3000:]


def admin_login(web_url: str, username: str, password: str) -> str:
    """Log in to the admin as a browser does (CSRF cookie and token, session cookie): the page
    the login redirects to, or AssertionError."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    login_url = f"{web_url}/admin/login/?next=/admin/"
    with opener.open(login_url, timeout=10) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, form[:2000]
    body = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1),
            "username": username,
            "password": password,
            "next": "/admin/",
        }
    ).encode()
    with opener.open(urllib.request.Request(login_url, data=body), timeout=30) as response:
        page = response.read().decode()
        assert response.url == f"{web_url}/admin/", (response.url, page[:2000])
    with opener.open(f"{web_url}/dashboard/", timeout=10) as response:
        assert response.status == 200 and 'id="levity-dashboard"' in response.read().decode()
    return page


def sqlite_users(data_dir: Path) -> list[str]:
    probe = [sys.executable, "-c", USERS_PROBE, str(data_dir / "levity.sqlite3")]
    rows = subprocess.run(probe, capture_output=True, text=True, check=True, cwd=ROOT)
    return re.findall(r"'([^']+)'", rows.stdout)


def test_levity_up_on_embedded_defaults_serves_a_whole_session(tmp_path):
    with levity_up_embedded(tmp_path) as (port, web_port, env, up):

        async def session():
            async with charger(port, "UP-1", subprotocol=False) as cp:
                boot = await cp.call(
                    call.BootNotification(charge_point_vendor="V", charge_point_model="M")
                )
                await cp.call(
                    call.StatusNotification(
                        connector_id=1, error_code="NoError", status="Available"
                    )
                )
                authorize = await cp.call(call.Authorize(id_tag="T"))
                start = await cp.call(
                    call.StartTransaction(
                        connector_id=1, id_tag="T", meter_start=0, timestamp="2026-01-01T00:00:00Z"
                    )
                )
                sample = {"timestamp": "2026-01-01T00:01:00Z", "sampledValue": [{"value": "100"}]}
                await cp.call(
                    call.MeterValues(
                        connector_id=1, transaction_id=start.transaction_id, meter_value=[sample]
                    )
                )
                await cp.call(
                    call.StopTransaction(
                        meter_stop=100,
                        timestamp="2026-01-01T00:02:00Z",
                        transaction_id=start.transaction_id,
                    )
                )
                return boot, authorize

        boot, authorize = asyncio.run(session())
        assert boot.status == "Accepted"
        assert authorize.id_tag_info["status"] == "Accepted"

        def admin_login_page():
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{web_port}/admin/login/", timeout=2
                ) as response:
                    return response.status == 200 and b"Levity" in response.read()
            except OSError:
                return False

        assert wait_until(admin_login_page, timeout=60, what="the admin login page")
        static = f"http://127.0.0.1:{web_port}/static/admin/css/base.css"
        with urllib.request.urlopen(static, timeout=5) as response:  # WhiteNoise
            assert response.status == 200
        # One process: the web app is served by the embedded gateway's process, no gunicorn.
        assert f"web app on http://127.0.0.1:{web_port}/" in up.log()
        assert "gunicorn" not in up.log()
        rows = subprocess.run(
            [
                sys.executable,
                "-c",
                SQL_PROBE,
                str(tmp_path / "levity.sqlite3"),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        assert rows.stdout.split() == ["V", "0", "100", "Local", "1"]

        # The first run created a superuser and printed its login, which works, with the
        # simulator's and the dashboard's addresses.
        banner = up.log()
        login = BANNER_LOGIN.search(banner)
        assert login, banner[-3000:]
        assert login.group(1) == "admin" and len(login.group(2)) >= 16
        assert f"admin                     http://127.0.0.1:{web_port}/admin/\n" in banner
        assert f"simulator                 http://127.0.0.1:{web_port}/demo/ocpp/" in banner
        assert f"dashboard                 http://127.0.0.1:{web_port}/dashboard/\n" in banner
        page = admin_login(f"http://127.0.0.1:{web_port}", login.group(1), login.group(2))
        assert "Charging operations" in page
        with pytest.raises(AssertionError):
            admin_login(f"http://127.0.0.1:{web_port}", "admin", "not-the-password")

    # A later run creates no other user and shows no password, only how to reset it.
    with levity_up_embedded(tmp_path, log="up-again.log") as (_port, _web_port, _env, again):
        banner = again.log()
        assert not BANNER_LOGIN.search(banner) and login.group(2) not in banner
        assert "(forgot the password? python manage.py changepassword admin)" in banner
    assert sqlite_users(tmp_path) == ["admin"]


def test_levity_up_with_services_runs_gateway_worker_and_web(stack, e2e_db, tmp_path):
    """With AMQP_URL/DATABASE_URL set, `levity up` runs the production processes against them."""
    port, web_port = free_port(), free_port()
    levity = shutil.which("levity", path=os.path.dirname(sys.executable)) or "levity"

    # The production processes need all three services (levity up refuses AMQP_URL alone).
    env = {**stack.env, "REDIS_URL": stack.env.get("REDIS_URL") or conf.get("REDIS_URL")}
    up = Process(
        "levity-up-services",
        [levity, "up", "--port", str(port), "--web-port", str(web_port)],
        env,
        tmp_path / "up.log",
    ).start()
    try:
        up.wait_for_log("levity is up on AMQP_URL broker", timeout=120)
        # With real services, no user is made up: the banner says how to create one.
        assert "(first user: python manage.py createsuperuser)" in up.log()
        assert not BANNER_LOGIN.search(up.log())
        from django.contrib.auth import get_user_model

        assert not get_user_model().objects.exists()
        up.wait_for_log(" ready.", timeout=60)  # its Celery worker
        wait_until(lambda: health(port), timeout=60, what="gateway health")

        async def boot():
            async with charger(port, "UP-SERVICES") as cp:
                return await cp.call(
                    call.BootNotification(charge_point_vendor="S", charge_point_model="M")
                )

        assert asyncio.run(boot()).status == "Accepted"
        from charging.models import ChargePoint

        assert ChargePoint.objects.get(pk="UP-SERVICES").vendor == "S"
    finally:
        assert up.stop(timeout=30) == 0, up.log()[-3000:]
        wait_until(lambda: health(stack.port), timeout=5, what="the shared gateway to stay up")


def test_consume_rpc_queue_starts_the_same_worker(stack, tmp_path):
    worker = Process(
        "consume_rpc_queue",
        [sys.executable, "manage.py", "consume_rpc_queue", "-c", "1"],
        stack.env,
        tmp_path / "rpc.log",
    ).start()
    try:
        worker.wait_for_log(" ready.", timeout=60)
        assert "cp.*" in worker.log() and "levity.handle_frame" in worker.log()
    finally:
        worker.stop()


def test_levity_up_embedded_command_round_trip_through_the_api(tmp_path):
    """The issue's "done when": from a fresh `levity up`, curl a RemoteStartTransaction to a
    connected simulated charger and get the charger's answer back, also in the API's call list."""
    with levity_up_embedded(tmp_path) as (port, web_port, env, up):
        manage = [sys.executable, "manage.py"]
        manage_env = {**env, "DJANGO_SETTINGS_MODULE": "levity_backend.settings", "AMQP_URL": ""}
        subprocess.run(
            [
                *manage,
                "shell",
                "-c",
                "from django.contrib.auth.models import User; User.objects.create_superuser('op', '', 'pw')",
            ],
            env=manage_env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        token = subprocess.run(
            [*manage, "drf_create_token", "op"],
            env=manage_env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[2]

        def api(method: str, path: str, body: bytes | None = None) -> tuple[int, dict]:
            request = urllib.request.Request(
                f"http://127.0.0.1:{web_port}/api/v1/{path}",
                data=body,
                method=method,
                headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read())

        async def scenario():
            async with charger(port, "UP-CMD", subprotocol=False) as cp:
                await cp.call(
                    call.BootNotification(charge_point_vendor="V", charge_point_model="M")
                )
                loop = asyncio.get_running_loop()
                status, body = await loop.run_in_executor(
                    None,
                    api,
                    "POST",
                    "charge-points/UP-CMD/calls/RemoteStartTransaction/?wait=10",
                    json.dumps({"idTag": "CURL", "connectorId": 1}).encode(),
                )
                return status, body, list(cp.remote_starts)

        status, body, remote_starts = asyncio.run(scenario())
        assert status == 200, body
        assert body["status"] == "answered" and body["response"] == {"status": "Accepted"}
        assert [(r["id_tag"], r["connector_id"]) for r in remote_starts] == [("CURL", 1)]
        listed_status, listed = api("GET", "calls/?charge_point=UP-CMD")
        assert listed_status == 200
        results = listed["results"] if isinstance(listed, dict) and "results" in listed else listed
        assert [(c["action"], c["status"]) for c in results] == [
            ("RemoteStartTransaction", "answered")
        ]

        # One line per problem, none per command, none for a probe; SQLite in WAL mode.
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"http://127.0.0.1:{web_port}/no-such-page/", timeout=10)
        assert health(port)
        log = up.log()
        assert log.count("Not Found: /no-such-page/") == 1, log[-3000:]
        for noise in ("No hostname was supplied", "succeeded in", "database is locked"):
            assert noise not in log, (noise, log[-3000:])
        assert "connection closed" not in log and "HTTP response sent" not in log  # /health
        mode = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sqlite3, sys; print(*sqlite3.connect(sys.argv[1]).execute('pragma journal_mode').fetchone())",
                str(tmp_path / "levity.sqlite3"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert mode.stdout.strip() == "wal"
