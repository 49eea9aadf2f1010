"""Fixtures for a real gateway and real Celery workers (-c 2) on RabbitMQ and the
PostgreSQL test database: `stack`, `authorizing_gateway` and `e2e_db`.

Imported by the conftest files of the suites that use them (tests/e2e, tests/browser,
tests/conformance). A fixture registered by several conftest files is several fixtures, so
`stack` shares one set of processes among them (`_shared`): two would start two workers with the
same node name, which RabbitMQ refuses (the second one's pidbox queue).
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from kombu import Connection

from levity.devstack import (
    Process,
    amqp_url,
    base_env,
    health,
    start_gateway,
    start_worker,
    wait_until,
)
from tests.security.helpers import write_ca


def _require(host: str, port: int, service: str, how: str) -> None:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as error:
        pytest.fail(f"{service} is not reachable on {host}:{port} ({error}); start it with: {how}")


@dataclass
class Stack:
    gateway: Process
    port: int
    workers: list[Process]
    env: dict[str, str]
    tmp: Path


@dataclass
class _Shared:
    stack: Stack | None = None
    users: int = 0


_shared = _Shared()


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Stack]:
    """The run's one gateway and worker: started by the first suite that asks, stopped when the
    last one's session fixture ends (every session fixture ends at the end of the run, before
    `django_db_setup` drops the database the worker uses)."""
    if _shared.stack is None:
        _shared.stack = _start_stack(django_db_blocker, tmp_path_factory)
    _shared.users += 1
    try:
        yield _shared.stack
    finally:
        _shared.users -= 1
        if not _shared.users:
            _shared.stack.gateway.stop()
            for worker in _shared.stack.workers:
                worker.stop()
            _shared.stack = None


def _start_stack(django_db_blocker, tmp_path_factory) -> Stack:
    _require("127.0.0.1", 5672, "RabbitMQ", "rabbitmq-server -detached")
    _require(
        "127.0.0.1",
        5432,
        "PostgreSQL",
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    )
    with django_db_blocker.unblock():
        settings = connection.settings_dict
        assert settings["ENGINE"].endswith("postgresql"), (
            "end-to-end tests need PostgreSQL (DATABASE_URL)"
        )
        db_url = f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    tmp = tmp_path_factory.mktemp("e2e")
    # A CA, so the workers sign charge point CSRs (security extension, SignCertificate).
    _, ca_certificate, ca_key = write_ca(tmp)
    env = base_env(
        DATABASE_URL=db_url,
        OCPP_CA_CERTIFICATE=str(ca_certificate),
        OCPP_CA_KEY=str(ca_key),
        # Webhooks (tests/e2e/test_webhooks.py): seen at once, retried within a second.
        OCPP_WEBHOOK_CACHE_SECONDS="0",
        OCPP_WEBHOOK_RETRY_FIRST="0.2",
        OCPP_WEBHOOK_RETRY_MAX="1",
        OCPP_WEBHOOK_TIMEOUT="2",
    )
    with Connection(amqp_url()) as amqp:
        # Left-overs of an earlier run would be processed against this run's database.
        channel = amqp.default_channel
        # The queue does not exist yet on a fresh broker.
        with contextlib.suppress(Exception):
            channel.queue_purge("cp.*")
        with contextlib.suppress(Exception):
            amqp.default_channel.queue_purge("levity.webhooks")
    workers = [start_worker(tmp, env)]
    gateway, port = start_gateway(tmp, env)
    return Stack(gateway, port, workers, env, tmp)


@pytest.fixture(scope="session")
def authorizing_gateway(stack) -> Iterator[int]:
    """A second gateway on the same broker and workers, checking handshakes (`--authorize`):
    its port."""
    gateway, port = start_gateway(
        stack.tmp, stack.env, name="gateway-authorize", extra=["--authorize"]
    )
    gateway.wait_for_log("handshakes checked by the workers", timeout=10)
    yield port
    gateway.stop()


@pytest.fixture
def e2e_db(stack, transactional_db):
    """Tests read what the worker committed: a transactional database, flushed after each test.

    The flush waits until the gateway has delivered every event (the last `disconnect`s are
    processed after the test's sockets close): truncating under a busy worker deadlocks.
    """
    yield stack
    wait_for_quiet(stack.port)


def wait_for_quiet(port: int, *, tls: ssl.SSLContext | None = None) -> None:
    """Until the gateway on `port` holds no connection and has delivered every event."""

    def quiet() -> bool:
        state = health(port, tls=tls)
        return bool(state) and state["connections"] == 0 and state["draining"] == 0

    wait_until(quiet, timeout=30, what=f"the gateway on {port} to deliver its last events")
