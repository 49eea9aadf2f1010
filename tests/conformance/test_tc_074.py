"""TC_074_CSMS Update Charge Point Certificate by request of Central System (OCTT 1.6 §3.21.1,
security profile 3): on the operator's ExtendedTriggerMessage the charge point sends a CSR, our
CA (OCPP_CA_CERTIFICATE) signs it and sends it in CertificateSigned; the charge point accepts it
and reconnects with it to the profile-3 gateway, which trusts that CA."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from ocpp.v16 import call

from charging.models import ChargePoint, OutboundCall
from levity.devstack import wait_until
from tests.e2e.harness import in_thread
from tests.security.helpers import csr_and_key

from .conftest import client_tls


def test_tc_074_update_charge_point_certificate(play, operator, tls_gateway, ca, cp_id, stack):
    port = tls_gateway["profile_3"]
    csr, key = csr_and_key(cp_id)
    directory = stack.tmp / cp_id
    directory.mkdir()

    async def case(cp):
        answer = await operator.command(
            cp, "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}
        )  # steps 1-2: no connectorId (the charge point checks it got exactly this); Accepted
        assert answer == {"status": "Accepted"}
        signed = await cp.send(call.SignCertificate(csr=csr))  # steps 3-4
        assert signed.status == "Accepted"
        received = await cp.expect("CertificateSigned")  # step 5
        await cp.answered(received)  # step 6: Accepted
        first = await in_thread(_connection_of, cp_id)
        # Step 7: the charge point disconnects and reconnects with the new certificate only.
        chain = received.payload["certificateChain"]
        (directory / "cert.pem").write_text(chain)
        (directory / "key.pem").write_bytes(key)
        renewed = client_tls(ca)  # it trusts the gateway's server certificate, as before
        renewed.load_cert_chain(directory / "cert.pem", directory / "key.pem")
        await cp.disconnect()
        async with cp.reconnect(ssl_context=renewed):
            again = await in_thread(_reconnected, cp_id, first)
        return chain, first, again

    chain, first, again = play(case, port=port, ssl_context=client_tls(ca, certificate_for=cp_id))
    assert again != first  # a new connection, accepted with the renewed certificate
    leaf, issuer = x509.load_pem_x509_certificates(chain.encode())
    assert leaf.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value == cp_id
    stack_ca = x509.load_pem_x509_certificate(Path(stack.env["OCPP_CA_CERTIFICATE"]).read_bytes())
    assert leaf.issuer == issuer.subject == stack_ca.subject  # signed by the deployment's CA
    key_of_csr = serialization.load_pem_private_key(key, password=None).public_key()
    assert leaf.public_key() == key_of_csr
    outcome = OutboundCall.objects.get(charge_point_id=cp_id, action="CertificateSigned")
    assert (outcome.status, outcome.response) == ("answered", {"status": "Accepted"})


def _connection_of(cp_id: str) -> str:
    return ChargePoint.objects.get(pk=cp_id).connection_id


def _reconnected(cp_id: str, old: str) -> str:
    def new_connection() -> str | None:
        point = ChargePoint.objects.get(pk=cp_id)
        return point.connection_id if point.connected and point.connection_id != old else None

    return wait_until(new_connection, timeout=15, what="the reconnection recorded")
