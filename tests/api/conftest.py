"""Fixtures of the HTTP API tests: a user with a token, and a client that sends it."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from charging.models import OutboundCall


@pytest.fixture
def user(db: Any) -> Any:
    """An operator with every permission of the charging app (the API checks them)."""
    operator = get_user_model().objects.create_user("operator", password="secret")
    operator.user_permissions.set(Permission.objects.filter(content_type__app_label="charging"))
    return operator


@pytest.fixture
def api(user: Any) -> APIClient:
    client = APIClient()
    token = Token.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def command_error(cls: type[Exception], message: str = "", **attrs: Any) -> Exception:
    """An instance of one of charging.commands' errors with the given attributes, whatever its
    constructor takes (the HTTP layer only reads the attributes)."""
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    attrs.setdefault("call", None)
    for name, value in attrs.items():
        setattr(error, name, value)
    return error


def finish(call: OutboundCall, **fields: Any) -> OutboundCall:
    """Record what became of a call, as the worker would."""
    for name, value in fields.items():
        setattr(call, name, value)
    call.save()
    return call
