"""Fixtures for a real gateway and real Celery workers (prefork, -c 2) on RabbitMQ and the
PostgreSQL test database: `stack`, `authorizing_gateway` and `e2e_db`.

Imported by tests/conftest.py, so that tests/e2e and tests/browser share one `stack` per run: a
fixture registered by two conftest files is two fixtures, and two stacks would start two workers
with the same node name (RabbitMQ refuses the second one's pidbox queue).
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

from tests.security.helpers import write_ca

from .harness import AMQP_URL, Process, base_env, health, start_gateway, start_worker, wait_until


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


@pytest.fixture(scope="session")
def stack(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Stack]:
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
    with Connection(AMQP_URL) as amqp:
        # Left-overs of an earlier run would be processed against this run's database.
        channel = amqp.default_channel
        # The queue does not exist yet on a fresh broker.
        with contextlib.suppress(Exception):
            channel.queue_purge("cp.*")
        with contextlib.suppress(Exception):
            amqp.default_channel.queue_purge("levity.webhooks")
    workers = [start_worker(tmp, env)]
    gateway, port = start_gateway(tmp, env)
    yield Stack(gateway, port, workers, env, tmp)
    gateway.stop()
    for worker in workers:
        worker.stop()


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
