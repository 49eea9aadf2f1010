"""End-to-end tests: `own_vhost` here; `stack` and `e2e_db` live in tests/e2e/fixtures.py, made
visible to every suite by tests/conftest.py (tests/browser uses them too)."""

import os
import uuid

import pytest

from tests.conftest import _rabbitmqctl

from .harness import AMQP_URL


@pytest.fixture
def real_hashers(settings):
    """The workers run the project's settings: hash keys as they check them (tests/settings.py
    uses MD5 for speed, which they do not accept)."""
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


@pytest.fixture
def own_vhost():
    """The URL of a virtual host nobody else consumes: the test's own worker gets every event."""
    vhost = f"levity-test-{os.getpid()}-own-{uuid.uuid4().hex[:6]}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    base = AMQP_URL.rsplit("/", 1)[0]
    yield f"{base}/{vhost}"
    _rabbitmqctl("delete_vhost", vhost)
