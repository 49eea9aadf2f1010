"""`manage.py ensure_admin`: a first superuser on an empty user table, never a second user."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def ensure_admin(*args: str) -> str:
    out = StringIO()
    call_command("ensure_admin", *args, stdout=out)
    return out.getvalue().strip()


def test_first_run_creates_a_superuser_whose_printed_password_works():
    answer = json.loads(ensure_admin("--print-credentials"))
    assert answer["created"] is True and answer["username"] == "admin"
    user = get_user_model().objects.get()
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.check_password(answer["password"]) and len(answer["password"]) >= 16


def test_later_runs_create_nothing_and_name_the_superuser():
    get_user_model().objects.create_superuser("root", password="x")
    assert json.loads(ensure_admin("--print-credentials")) == {
        "created": False,
        "superuser": "root",
    }
    assert ensure_admin() == "A user exists already: none created"
    assert get_user_model().objects.count() == 1


def test_no_superuser_among_existing_users():
    get_user_model().objects.create_user("op", password="x")
    assert json.loads(ensure_admin("--print-credentials")) == {"created": False, "superuser": None}


def test_without_print_credentials_the_password_stays_unprinted():
    text = ensure_admin("--username", "boss")
    assert text == (
        "Created superuser boss; set its password with `python manage.py changepassword boss`"
    )
    assert get_user_model().objects.get().username == "boss"
