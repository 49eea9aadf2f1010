"""Fixtures of the OCTT central-system cases: the session's gateway + worker (`stack`, started
once for every suite), a flushed database per case (`e2e_db`), the operator and the charge point.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from levity.devstack import start_gateway
from tests.e2e.fixtures import authorizing_gateway, e2e_db, stack, wait_for_quiet  # noqa: F401

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
    """A superuser with an API token, who knows the tool's valid idTag."""
    user = get_user_model().objects.create_superuser("octt-operator", "", None)
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
    """Run a case: connect the charge point (to the stack's gateway unless `port`; `password`,
    `ssl_context` as `station()`), bring it to the reusable state Booted (the general
    pre-condition "Accepted by the Central System", unless `boot=False`), then `case(station)`."""

    def run(case: Case, *, boot: bool = True, port: int | None = None, **connect: Any) -> Any:
        async def main() -> Any:
            async with station(port or stack.port, cp_id, **connect) as st:
                if boot:
                    await st.booted()
                return await case(st)

        try:
            return asyncio.run(main())
        finally:
            if port is not None:  # e2e_db waits for the stack's gateway only, before the flush
                wait_for_quiet(port, tls=connect.get("ssl_context"))

    return run


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """A throw-away certificate authority: the gateway's server certificate and the charge
    points' client certificates."""
    return trustme.CA()


def client_tls(ca: trustme.CA, *, certificate_for: str | None = None) -> ssl.SSLContext:
    """A charge point's TLS: it trusts our CA; with `certificate_for`, it presents a client
    certificate naming that charge point (security profile 3)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    if certificate_for is not None:
        ca.issue_cert(certificate_for, common_name=certificate_for).configure_cert(context)
    return context


@pytest.fixture(scope="session")
def tls_gateway(stack: Any, ca: trustme.CA, tmp_path_factory: Any) -> Iterator[dict[str, int]]:
    """Gateways serving wss:// with a certificate of `ca`: `profile_2` (TLS + HTTP Basic,
    `--authorize`) and `profile_3` (a client certificate required, signed by `ca` or by the
    stack's own CA, OCPP_CA_CERTIFICATE, which signs the certificates charge points renew with
    SignCertificate: TC_074). Their ports."""
    directory = tmp_path_factory.mktemp("tls")
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(ca_file)
    ca_file.write_text(ca_file.read_text() + Path(stack.env["OCPP_CA_CERTIFICATE"]).read_text())
    # An RSA and an ECDSA certificate: the whitepaper's suites need both (TC_086, TC_087).
    certs, keys = [], []
    for key_type in (trustme.KeyType.RSA, trustme.KeyType.ECDSA):
        cert, key = directory / f"{key_type.name}.pem", directory / f"{key_type.name}.key"
        issued = ca.issue_cert("127.0.0.1", "localhost", key_type=key_type)
        for index, pem in enumerate(issued.cert_chain_pems):
            pem.write_to_path(cert, append=index > 0)
        issued.private_key_pem.write_to_path(key)
        certs.append(str(cert))
        keys.append(str(key))
    tls = ["--tls-cert", ",".join(certs), "--tls-key", ",".join(keys)]
    flavours = {"profile_2": ["--authorize"], "profile_3": ["--tls-client-ca", str(ca_file)]}
    started = {
        name: start_gateway(
            stack.tmp,
            stack.env,
            name=f"gateway-{name}",
            extra=tls + extra,
            tls=client_tls(ca, certificate_for="HEALTH"),
        )
        for name, extra in flavours.items()
    }
    yield {name: port for name, (_, port) in started.items()}
    for gateway, _ in started.values():
        gateway.stop()
