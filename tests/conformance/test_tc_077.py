"""TC_077_CSMS Invalid ChargePointCertificate Security Event (OCTT 1.6 §3.24.2): on the
operator's ExtendedTriggerMessage the charge point sends a CSR, our CA signs it and sends it in
CertificateSigned; the charge point rejects it and reports the security event."""

from __future__ import annotations

from cryptography import x509
from ocpp.v16 import call

from charging.models import OutboundCall, SecurityEvent
from levity.devstack import wait_until
from tests.security.helpers import csr_pem

from .harness import in_thread, ocpp_time


def test_tc_077_invalid_charge_point_certificate_security_event(play, operator, cp_id):
    async def case(cp):
        answer = await operator.command(
            cp, "ExtendedTriggerMessage", {"requestedMessage": "SignChargePointCertificate"}
        )  # steps 1-2: no connectorId
        assert answer == {"status": "Accepted"}
        cp.answer("CertificateSigned", {"status": "Rejected"})
        signed = await cp.send(call.SignCertificate(csr=csr_pem(cp_id)))  # steps 3-4
        assert signed.status == "Accepted"
        received = await cp.expect("CertificateSigned")  # step 5: a signed certificate
        await cp.answered(received)  # step 6: Rejected
        await in_thread(_rejection_recorded, cp_id)
        await cp.send(
            call.SecurityEventNotification(
                type="InvalidChargePointCertificate", timestamp=ocpp_time(), tech_info="chain"
            )
        )  # steps 7-8
        return received.payload["certificateChain"]

    chain = play(case)
    leaf, _ = x509.load_pem_x509_certificates(chain.encode())
    assert leaf.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value == cp_id
    event = SecurityEvent.objects.get(charge_point_id=cp_id)
    assert (event.type, event.critical) == ("InvalidChargePointCertificate", False)


def _rejection_recorded(cp_id: str) -> None:
    wait_until(
        lambda: OutboundCall.objects.filter(
            charge_point_id=cp_id, action="CertificateSigned", response={"status": "Rejected"}
        ).exists(),
        timeout=15,
        what="the CertificateSigned answer recorded",
    )
