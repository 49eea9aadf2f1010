"""The security extension through the whole stack: a critical security event is stored, and a
charger's CSR comes back signed by the deployment's CA in a CertificateSigned CALL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cryptography import x509
from ocpp.v16 import call as ocpp_call

from charging.models import OutboundCall, SecurityEvent
from levity.devstack import charger, wait_until
from tests.security.helpers import csr_pem

from .test_commands import _connected, in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db")]


def test_security_event_and_certificate_signing(stack):
    cp_id = "E2E-SECURITY"

    async def scenario():
        async with charger(stack.port, cp_id) as cp:
            await in_thread(_connected, cp_id)
            await cp.call(
                ocpp_call.SecurityEventNotification(
                    type="TamperDetectionActivated",
                    timestamp="2026-12-01T10:00:00Z",
                    tech_info="lid",
                )
            )
            signed = await cp.call(ocpp_call.SignCertificate(csr=csr_pem(cp_id)))
            assert signed.status == "Accepted"
            await asyncio.wait_for(cp.call_received.wait(), 15)
            # Connected until its answer is recorded (closing first would end the call offline).
            await in_thread(_answered, cp_id)
            return cp.received

    (received,) = asyncio.run(scenario())
    event = SecurityEvent.objects.get(charge_point_id=cp_id)
    assert (event.type, event.critical) == ("TamperDetectionActivated", True)
    assert received.action == "CertificateSigned"
    leaf, issuer = x509.load_pem_x509_certificates(received.payload["certificateChain"].encode())
    ca = x509.load_pem_x509_certificate(Path(stack.env["OCPP_CA_CERTIFICATE"]).read_bytes())
    assert issuer == ca
    leaf.verify_directly_issued_by(ca)
    call = OutboundCall.objects.get(charge_point_id=cp_id, action="CertificateSigned")
    assert (call.status, call.response) == ("answered", {"status": "Accepted"})


def _answered(cp_id: str) -> None:
    wait_until(
        lambda: OutboundCall.objects.filter(
            charge_point_id=cp_id, action="CertificateSigned", status="answered"
        ).exists(),
        timeout=15,
        what="CertificateSigned answered",
    )
