"""TC_087_CSMS TLS - Client-side certificate - valid certificate (OCTT 1.6 §3.21, security
profile 3): the gateway (`--tls-client-ca`) requires a client certificate signed by the CA it
trusts, naming the charge point."""

from __future__ import annotations

import functools
import ssl

import pytest
from websockets.exceptions import InvalidMessage

from .conftest import client_tls
from .harness import station, tls12_suites_refused, tls_version


def test_tc_087_tls_client_certificate(play, tls_gateway, ca, cp_id):
    port = tls_gateway["profile_3"]
    tls12 = client_tls(ca, certificate_for=cp_id)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2

    async def case(cp):  # steps 1-6: handshake with the client certificate, upgrade
        assert tls_version(cp) == "TLSv1.2"
        await cp.booted()  # steps 7-10
        # Without a certificate, no connection: refused in the handshake (TLS 1.2), or closed
        # right after it (TLS 1.3 checks the client's certificate after the client finished).
        with pytest.raises((ssl.SSLError, OSError, InvalidMessage)):
            async with station(port, cp_id, ssl_context=client_tls(ca)):
                pass

    play(case, boot=False, port=port, ssl_context=tls12)


def test_tc_087_required_cipher_suites(tls_gateway, ca):
    client = functools.partial(client_tls, ca, certificate_for="TC-087-CIPHERS")
    assert tls12_suites_refused(tls_gateway["profile_3"], client) == []
