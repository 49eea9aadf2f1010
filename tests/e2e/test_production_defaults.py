"""A secure production default (issue 14, point 7), on real processes: with DEBUG off a published
SECRET_KEY stops the start, the simulator is off, unknown charge points wait for approval,
/metrics needs METRICS_TOKEN, every process warns when chargers may connect without a key; the
gateway's /health and /metrics answer internal addresses or the token only. `levity up` keeps the
development defaults (tests/e2e/test_levity_up.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from levity.devstack import ROOT, Process, free_port, wait_until

pytestmark = pytest.mark.e2e

SECRET = {"SECRET_KEY": "levity-tests-only-not-a-secret-0123456789-abcdefghijklmnop"}
WARNING = "SECURITY: charge points without an authorization key connect"
SHOW = (
    "import django, json; django.setup(); from charging import conf; print(json.dumps({n: "
    "conf.get(n) for n in ('OCPP_SIMULATOR_ENABLED', 'OCPP_UNKNOWN_CHARGE_POINTS', "
    "'METRICS_OPEN', 'OCPP_ALLOW_CHARGERS_WITHOUT_KEY')}))"
)


def django_env(**env: str) -> dict[str, str]:
    names = {"DEBUG", "SECRET_KEY", "OCPP_REQUIRE_AUTHORIZATION_KEY", "METRICS_TOKEN"}
    clean = {k: v for k, v in os.environ.items() if k not in names and not k.startswith("OCPP_")}
    return {**clean, "DJANGO_SETTINGS_MODULE": "levity_backend.settings", **env}


def start_django(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=ROOT,
        env=django_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("secret", [None, "change-me", "levity-insecure-development-key-change-me"])
def test_production_refuses_to_start_with_a_default_secret_key(secret):
    result = start_django(DEBUG="false", **({} if secret is None else {"SECRET_KEY": secret}))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr.splitlines()[-1]


def test_production_defaults_are_the_secure_ones_and_development_keeps_its_own():
    production = start_django(DEBUG="false", **SECRET)
    assert production.returncode == 0, production.stderr
    assert json.loads(production.stdout) == {
        "OCPP_SIMULATOR_ENABLED": False,
        "OCPP_UNKNOWN_CHARGE_POINTS": "pending",
        "METRICS_OPEN": False,
        "OCPP_ALLOW_CHARGERS_WITHOUT_KEY": False,
    }
    assert WARNING in production.stderr
    development = start_django()  # what `levity up` runs: DEBUG unset
    assert json.loads(development.stdout) == {
        "OCPP_SIMULATOR_ENABLED": True,
        "OCPP_UNKNOWN_CHARGE_POINTS": "accept",
        "METRICS_OPEN": True,
        "OCPP_ALLOW_CHARGERS_WITHOUT_KEY": True,
    }
    assert WARNING not in development.stderr


@pytest.mark.parametrize(
    "opt_out",
    [{"OCPP_REQUIRE_AUTHORIZATION_KEY": "true"}, {"OCPP_ALLOW_CHARGERS_WITHOUT_KEY": "true"}],
)
def test_the_warning_goes_when_keys_are_required_or_the_fleet_cannot_send_them(opt_out):
    result = start_django(DEBUG="false", **SECRET, **opt_out)
    assert result.returncode == 0, result.stderr
    assert WARNING not in result.stderr


def get(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0  # not listening yet


def test_production_web_has_no_simulator_and_no_open_metrics(tmp_path: Path):
    port = free_port()
    env = django_env(
        DEBUG="false",
        **SECRET,
        SECURE_SSL_REDIRECT="false",
        LEVITY_DATA_DIR=str(tmp_path),
        ALLOWED_HOSTS="127.0.0.1",
    )
    env.pop("DATABASE_URL", None)
    env.pop("AMQP_URL", None)
    argv = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    server = Process("runserver", argv, env, tmp_path / "runserver.log").start()
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: get(f"{base}/metrics") == 403, timeout=60, what="/metrics refused")
        assert get(f"{base}/demo/ocpp/") == 404
    finally:
        server.stop()
    assert WARNING in server.log()


def test_gateway_status_pages_answer_internal_addresses_or_the_token(stack, tmp_path: Path):
    port = free_port()
    env = {
        **stack.env,
        "METRICS_TOKEN": "scrape-me",
        # The test's own address, 127.0.0.1, is outside: it stands for a public peer.
        "LEVITY_GATEWAY_INTERNAL_NETWORKS": "10.0.0.0/8",
    }
    argv = [sys.executable, "-m", "gateway", "--host", "127.0.0.1", "--port", str(port)]
    gateway = Process("gateway-public", argv, env, tmp_path / "gateway.log").start()
    try:
        gateway.wait_for_log("listening on", timeout=30)
        for path in ("/health", "/metrics"):
            assert get(f"http://127.0.0.1:{port}{path}") == 403
            assert get(f"http://127.0.0.1:{port}{path}", token="wrong") == 403
            assert get(f"http://127.0.0.1:{port}{path}", token="scrape-me") == 200
    finally:
        gateway.stop()
    # Started without --authorize: it says what that means.
    assert "SECURITY: handshakes are not checked (no --authorize)" in gateway.log()
