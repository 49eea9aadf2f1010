"""End-to-end tests: `own_vhost` here; their fixtures `stack`, `authorizing_gateway` and
`e2e_db` live in tests/e2e/fixtures.py (tests/browser and tests/conformance use them too)."""

import os
import uuid

import pytest

from levity.devstack import rabbitmq_vhost

from .fixtures import authorizing_gateway, e2e_db, stack  # noqa: F401


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
    with rabbitmq_vhost(vhost) as url:
        yield url
