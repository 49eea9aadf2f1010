"""handle_inbound answers the security extension's charger CALLs: security events stored
(critical ones flagged), CSRs signed by the configured CA and sent back with CertificateSigned."""

from __future__ import annotations

import json

import pytest
from cryptography import x509

from charging.dispatch import handle_inbound
from charging.models import ChargePoint, SecurityEvent
from tests.factories import call, sent
from tests.security.helpers import csr_pem, write_ca

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("type_", "critical"), [("TamperDetectionActivated", True), ("InvalidMessages", False)]
)
def test_security_events_are_stored_and_critical_ones_flagged(type_, critical):
    payload = {"type": type_, "timestamp": "2026-12-01T10:00:00Z", "techInfo": "lid opened"}
    reply = handle_inbound(call("s1", "SecurityEventNotification", payload))
    assert sent(reply) == [3, "s1", {}]
    event = SecurityEvent.objects.get()
    assert (event.charge_point_id, event.type, event.tech_info, event.critical) == (
        "CP-1",
        type_,
        "lid opened",
        critical,
    )
    assert event.timestamp.year == 2026 and event.received_at is not None


def test_sign_certificate_without_a_ca_is_rejected(settings):
    settings.OCPP_CA_CERTIFICATE = settings.OCPP_CA_KEY = ""
    reply = handle_inbound(call("c1", "SignCertificate", {"csr": csr_pem("CP-1")}))
    assert sent(reply) == [3, "c1", {"status": "Rejected"}]
    assert reply["calls"] == []


def test_sign_certificate_is_accepted_and_the_chain_follows(settings, tmp_path):
    ca, settings.OCPP_CA_CERTIFICATE, settings.OCPP_CA_KEY = write_ca(tmp_path)
    reply = handle_inbound(call("c1", "SignCertificate", {"csr": csr_pem("CP-1")}))
    assert sent(reply) == [3, "c1", {"status": "Accepted"}]
    (follow_up,) = reply["calls"]
    frame = json.loads(follow_up["text"])
    assert frame[2] == "CertificateSigned"
    leaf, _ = x509.load_pem_x509_certificates(frame[3]["certificateChain"].encode())
    assert (
        leaf.issuer.rfc4514_string()
        == x509.load_pem_x509_certificate(ca.cert_pem.bytes()).subject.rfc4514_string()
    )
    # A CSR for another charge point is not signed.
    other = handle_inbound(call("c2", "SignCertificate", {"csr": csr_pem("CP-OTHER")}))
    assert sent(other) == [3, "c2", {"status": "Rejected"}]


def test_signed_firmware_and_log_status_notifications_are_answered():
    reply = handle_inbound(
        call(
            "f1",
            "SignedFirmwareStatusNotification",
            {"status": "SignatureVerified", "requestId": 4},
        )
    )
    assert sent(reply) == [3, "f1", {}]
    assert ChargePoint.objects.get(pk="CP-1").firmware_status == "SignatureVerified"
    reply = handle_inbound(
        call("l1", "LogStatusNotification", {"status": "Uploading", "requestId": 3})
    )
    assert sent(reply) == [3, "l1", {}]
