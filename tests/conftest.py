"""Test-run set-up shared by every suite: this run's own RabbitMQ virtual host."""

from __future__ import annotations

import os
from urllib.parse import unquote, urlsplit

import pytest

from levity import devstack


def _own_vhost() -> str | None:
    vhost = unquote(urlsplit(os.environ.get("AMQP_URL", "")).path.lstrip("/"))
    return vhost if vhost.startswith("levity-test-") else None


def pytest_configure(config: pytest.Config) -> None:
    vhost = _own_vhost()
    if vhost:
        try:
            devstack.add_vhost(vhost)
        except RuntimeError as error:  # no rabbitmqctl here
            raise pytest.UsageError(str(error)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    vhost = _own_vhost()
    if vhost:
        devstack.delete_vhost(vhost)
