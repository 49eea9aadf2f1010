"""Test-run set-up shared by every suite: this run's own RabbitMQ virtual host."""

from __future__ import annotations

import os
import shutil
import subprocess
from urllib.parse import unquote, urlsplit

import pytest

# The real gateway + worker (`stack`) and the flushed database (`e2e_db`), registered once here
# for tests/e2e and tests/browser alike (see tests/e2e/fixtures.py for why not twice).
from tests.e2e.fixtures import authorizing_gateway, e2e_db, stack  # noqa: F401


def _own_vhost() -> str | None:
    vhost = unquote(urlsplit(os.environ.get("AMQP_URL", "")).path.lstrip("/"))
    return vhost if vhost.startswith("levity-test-") else None


def _rabbitmqctl(*args: str) -> None:
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        raise pytest.UsageError(
            "rabbitmqctl not found: run the tests on the RabbitMQ host, or set AMQP_URL to a "
            "virtual host of your own"
        )
    subprocess.run([ctl, "-q", *args], check=True, capture_output=True, timeout=60)


def pytest_configure(config: pytest.Config) -> None:
    vhost = _own_vhost()
    if vhost:
        _rabbitmqctl("add_vhost", vhost)
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")


def pytest_unconfigure(config: pytest.Config) -> None:
    vhost = _own_vhost()
    if vhost:
        _rabbitmqctl("delete_vhost", vhost)
