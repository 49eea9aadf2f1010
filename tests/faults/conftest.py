"""The `faults` fixture: a RabbitMQ virtual host of the test's own and an environment for real
gateway and worker processes on the test database (the shared `stack` of tests/e2e may be
consuming the run's own virtual host meanwhile, so it must not see these tests' events)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from django.db import connection

from levity.devstack import add_vhost, base_env, delete_vhost
from tests.e2e.fixtures import _require

from .harness import FaultStack

_vhosts = itertools.count()


@pytest.fixture
def faults(transactional_db, tmp_path_factory) -> Iterator[FaultStack]:
    """Requests `transactional_db` first, so its flush runs after every process here stopped."""
    _require("127.0.0.1", 5672, "RabbitMQ", "rabbitmq-server -detached")
    _require(
        "127.0.0.1",
        5432,
        "PostgreSQL",
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    )
    settings = connection.settings_dict
    assert settings["ENGINE"].endswith("postgresql"), "fault tests need PostgreSQL (DATABASE_URL)"
    db_url = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    vhost = f"levity-test-{os.getpid()}-faults-{next(_vhosts)}"
    amqp_url = add_vhost(vhost)
    stack = FaultStack(
        env=base_env(DATABASE_URL=db_url, AMQP_URL=amqp_url),
        tmp=tmp_path_factory.mktemp("faults"),
        amqp_url=amqp_url,
    )
    try:
        yield stack
    finally:
        stack.stop()
        delete_vhost(vhost)
