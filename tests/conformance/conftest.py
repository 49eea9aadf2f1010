"""Fixtures of the OCTT central-system cases: the session's gateway + worker (`stack`, started
once for every suite), a flushed database per case (`e2e_db`), the operator and the charge point.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from .harness import VALID_ID_TAG, Operator, Station, station

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.conformance)
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True)
def _flushed_database(e2e_db: Any) -> Any:
    """Every case starts from the document's general pre-conditions (§1.3): nothing stored."""
    return e2e_db


@pytest.fixture
def operator(_flushed_database: Any) -> Operator:
    """A staff user with an API token, who knows the tool's valid idTag."""
    user = get_user_model().objects.create_user("octt-operator", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    op = Operator(client)
    op.id_tag(VALID_ID_TAG, status="Accepted")
    return op


@pytest.fixture
def cp_id(request: pytest.FixtureRequest) -> str:
    """The charge point identity of this case: its test's name (`TC-061-...`)."""
    name = request.node.name.removeprefix("test_").upper()
    return re.sub(r"[^A-Z0-9]+", "-", name)[:48].strip("-")


Case = Callable[[Station], Awaitable[Any]]


@pytest.fixture
def play(stack: Any, cp_id: str) -> Callable[..., Any]:
    """Run a case: connect the charge point, bring it to the reusable state Booted (the general
    pre-condition "Accepted by the Central System", unless `boot=False`), then `case(station)`."""

    def run(case: Case, *, boot: bool = True) -> Any:
        async def main() -> Any:
            async with station(stack.port, cp_id) as st:
                if boot:
                    await st.booted()
                return await case(st)

        return asyncio.run(main())

    return run
