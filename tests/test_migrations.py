"""The charging app's migrations match its models."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_missing_migrations():
    out = StringIO()
    try:
        call_command("makemigrations", "charging", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"charging models changed without a migration:\n{out.getvalue()}")
