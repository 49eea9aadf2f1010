"""End-to-end tests: their fixtures `stack`, `authorizing_gateway` and `e2e_db` live in
tests/e2e/fixtures.py (tests/browser and tests/conformance use them too)."""

import pytest

from .fixtures import authorizing_gateway, e2e_db, stack  # noqa: F401


@pytest.fixture
def real_hashers(settings):
    """The workers run the project's settings: hash keys as they check them (tests/settings.py
    uses MD5 for speed, which they do not accept)."""
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
