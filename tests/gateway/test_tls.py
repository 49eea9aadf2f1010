"""wss:// served by the gateway itself (security profile 2) and client certificates (profile 3),
with a throw-away CA (trustme) and a real TLS client."""

from __future__ import annotations

import ssl

import pytest
import trustme
import websockets

from .helpers import OCPP16, FakeBus, run, running_gateway


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_files(ca, tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    cert, key, ca_file = directory / "cert.pem", directory / "key.pem", directory / "ca.pem"
    certificate.cert_chain_pems[0].write_to_path(cert)
    for extra in certificate.cert_chain_pems[1:]:
        extra.write_to_path(cert, append=True)
    certificate.private_key_pem.write_to_path(key)
    ca.cert_pem.write_to_path(ca_file)
    return str(cert), str(key), str(ca_file)


def client_context(ca: trustme.CA, *, client_cn: str | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    if client_cn is not None:
        ca.issue_cert(client_cn, common_name=client_cn).configure_cert(context)
    return context


def test_wss_with_a_real_tls_client(ca, server_files):
    cert, key, _ = server_files

    async def body():
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus, tls_cert=cert, tls_key=key) as (gateway, url):
            wss = url.replace("ws://", "wss://")
            async with websockets.connect(
                f"{wss}/ocpp/CP-1", subprotocols=OCPP16, ssl=client_context(ca)
            ) as ws:
                assert (await bus.next())["kind"] == "connect"
                version = ws.transport.get_extra_info("ssl_object").version()
                assert version in ("TLSv1.2", "TLSv1.3")
            # A client that does not trust the certificate fails the TLS handshake.
            with pytest.raises(ssl.SSLCertVerificationError):
                await websockets.connect(
                    f"{wss}/ocpp/CP-1", ssl=ssl.create_default_context(), open_timeout=5
                )
            assert gateway.config.scheme == "wss"

    run(body())


def test_client_certificate_must_name_the_charge_point(ca, server_files):
    cert, key, ca_file = server_files

    async def body():
        bus = FakeBus(auto_reply=True)
        options = {"tls_cert": cert, "tls_key": key, "tls_client_ca": ca_file}
        async with running_gateway(bus, **options) as (_, url):
            wss = url.replace("ws://", "wss://")
            async with websockets.connect(
                f"{wss}/ocpp/CP-1",
                subprotocols=OCPP16,
                ssl=client_context(ca, client_cn="CP-1"),
            ):
                assert (await bus.next())["kind"] == "connect"
            with pytest.raises(websockets.InvalidStatus) as other:
                await websockets.connect(
                    f"{wss}/ocpp/CP-1", ssl=client_context(ca, client_cn="CP-2"), open_timeout=5
                )
            assert other.value.response.status_code == 403
            # Without a certificate the TLS handshake itself fails (CERT_REQUIRED).
            with pytest.raises((ssl.SSLError, ConnectionError, websockets.InvalidHandshake)):
                ws = await websockets.connect(
                    f"{wss}/ocpp/CP-1", ssl=client_context(ca), open_timeout=5
                )
                await ws.recv()

    run(body())
