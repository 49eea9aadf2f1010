"""`python manage.py check --deploy` is clean with production settings from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "levity_backend.settings",
    "DEBUG": "false",
    "SECRET_KEY": "4xq8-not-a-real-secret-but-long-and-random-enough-Zk3p9Wm2Rv7",
    "ALLOWED_HOSTS": "levity.example.com",
    "OCPP_REQUIRE_AUTHORIZATION_KEY": "true",
}


def check_deploy(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **PRODUCTION, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production():
    result = check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_refuses_the_development_key_and_plain_http():
    insecure = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    env = {**{k: v for k, v in os.environ.items() if k != "SECRET_KEY"}, **insecure}
    env["SECURE_SSL_REDIRECT"] = "false"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    # The development SECRET_KEY stops the start before any check (issue 14, point 7)...
    assert "SECRET_KEY" in result.stderr
    # ...and with a real one, plain HTTP is still reported.
    result = check_deploy(SECURE_SSL_REDIRECT="false")
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout  # no redirect to HTTPS


def test_a_bad_admission_policy_stops_the_start():
    result = check_deploy(OCPP_UNKNOWN_CHARGE_POINTS="sometimes")
    assert result.returncode != 0
    assert "OCPP_UNKNOWN_CHARGE_POINTS" in result.stderr
