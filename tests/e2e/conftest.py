"""End-to-end tests: their fixtures `stack` and `e2e_db` live in tests/e2e/fixtures.py, made
visible to every suite by tests/conftest.py (tests/browser uses them too)."""

import pytest


@pytest.fixture
def real_hashers(settings):
    """The workers run the project's settings: hash keys as they check them (tests/settings.py
    uses MD5 for speed, which they do not accept)."""
    from django.conf import global_settings

    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
