"""TC_086_CSMS TLS - server-side certificate - Valid certificate (OCTT 1.6 §3.21, security
profile 2): wss:// served by the gateway (`--tls-cert`), HTTP Basic inside. The certificate's
own properties the tool checks (key length, PEM, serial number, CN = the server's FQDN) belong
to the certificate a deployment configures, not to our code (docs/conformance.md)."""

from __future__ import annotations

import functools
import socket
import ssl

import pytest

from .conftest import client_tls
from .harness import tls12_suites_refused, tls_version
from .test_tc_085 import KEY


def test_tc_086_tls_server_certificate(play, operator, tls_gateway, ca, cp_id):
    assert operator.authorization_key(cp_id, key=KEY).status_code == 201
    tls12 = client_tls(ca)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2  # step 2: TLS 1.2 or above

    async def case(cp):  # steps 1-6: handshake, upgrade with username/password
        assert tls_version(cp) == "TLSv1.2"
        await cp.booted()  # steps 7-10

    play(case, boot=False, port=tls_gateway["profile_2"], password=KEY, ssl_context=tls12)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tc_086_tls_older_than_1_2_refused(tls_gateway, ca):
    tls11 = client_tls(ca)
    tls11.set_ciphers("DEFAULT:@SECLEVEL=0")  # our side would offer TLS 1.1; the gateway won't
    tls11.minimum_version = tls11.maximum_version = ssl.TLSVersion.TLSv1_1
    with (
        socket.create_connection(("127.0.0.1", tls_gateway["profile_2"]), timeout=5) as raw,
        pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION|UNEXPECTED_EOF"),  # alert or close
    ):
        tls11.wrap_socket(raw, server_hostname="127.0.0.1")


def test_tc_086_required_cipher_suites(tls_gateway, ca):
    assert tls12_suites_refused(tls_gateway["profile_2"], functools.partial(client_tls, ca)) == []
