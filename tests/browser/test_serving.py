"""The simulator page and its static files are served by each way of running the web app:
`levity up` (embedded), `manage.py runserver` and gunicorn (the browser test's server)."""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

import pytest

from levity.devstack import PLAIN_HTTP_PRODUCTION, Process, free_port, wait_until
from tests.e2e.test_levity_up import levity_up_embedded

pytestmark = pytest.mark.e2e


def fetch(url: str) -> tuple[int, str, bytes] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except OSError:
        return None


def assert_simulator_served(web: str, gateway_url: str) -> None:
    status, _, page = wait_until(lambda: fetch(f"{web}/demo/ocpp/"), timeout=60, what="the page")
    assert status == 200
    assert f'value="{gateway_url}"'.encode() in page
    for path, content_type in [
        ("/static/charging/simulator.js", "javascript"),
        ("/static/charging/simulator.css", "text/css"),
    ]:
        answer = fetch(web + path)
        assert answer is not None, path
        status, served_type, body = answer
        assert status == 200 and content_type in served_type and body, path


def test_served_by_levity_up(tmp_path: Path):
    with levity_up_embedded(tmp_path) as (port, web_port, _env, _up):
        assert_simulator_served(f"http://127.0.0.1:{web_port}", f"ws://127.0.0.1:{port}/ocpp/")


@pytest.mark.parametrize("debug", ["true", "false"])
def test_served_by_runserver(tmp_path: Path, debug: str):
    # With DEBUG runserver serves /static/ itself; without, WhiteNoise does.
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "AMQP_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="levity_backend.settings",
        LEVITY_DATA_DIR=str(tmp_path),
        OCPP_GATEWAY_URL="ws://gateway.example:9000/ocpp/",
        PYTHONUNBUFFERED="1",
    )
    env.update(PLAIN_HTTP_PRODUCTION if debug == "false" else {"DEBUG": debug})
    port = free_port()
    argv = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    server = Process("runserver", argv, env, tmp_path / "runserver.log").start()
    try:
        assert_simulator_served(f"http://127.0.0.1:{port}", "ws://gateway.example:9000/ocpp/")
    finally:
        server.stop()


def test_served_by_gunicorn(web, stack):
    assert_simulator_served(web.url, f"ws://127.0.0.1:{stack.port}/ocpp/")
