"""Signing charge point CSRs with the deployment's CA."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from charging import certificates

from .helpers import csr_pem, write_ca


@pytest.fixture
def ca(tmp_path):
    _, certificate, key = write_ca(tmp_path)
    return certificates.CertificateAuthority.from_pem(certificate.read_bytes(), key.read_bytes())


def test_a_csr_naming_the_charge_point_is_signed_into_a_chain(ca):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    chain = certificates.sign_charge_point_csr(
        csr_pem("CP-1"), charge_point_id="CP-1", ca=ca, days=30, now=now
    )
    leaf, issuer = x509.load_pem_x509_certificates(chain.encode())
    assert issuer == ca.certificate
    leaf.verify_directly_issued_by(ca.certificate)  # raises if not signed by the CA
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CP-1"
    assert leaf.not_valid_after_utc == now + timedelta(days=30)
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usage
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


@pytest.mark.parametrize(
    ("csr", "why"),
    [
        (lambda: csr_pem("CP-2"), "not the charge point id"),
        (
            lambda: (
                "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
            ),
            "not a PEM",
        ),
        (lambda: "hello", "not a PEM"),
    ],
)
def test_other_csrs_are_refused(ca, csr, why):
    with pytest.raises(certificates.CertificateRequestRefused, match=why):
        certificates.sign_charge_point_csr(csr(), charge_point_id="CP-1", ca=ca, days=30)


def test_no_ca_is_configured_by_default(settings):
    settings.OCPP_CA_CERTIFICATE = settings.OCPP_CA_KEY = ""
    assert certificates.configured_ca() is None


def test_certificate_hash_data_is_openssl_s_ocsp_cert_id(tmp_path):
    """The same issuer name and key hashes as OpenSSL's OCSP CertID (RFC 6960) of the root."""
    ca, certificate, _ = write_ca(tmp_path)
    text = subprocess.run(
        [
            "openssl",
            "ocsp",
            "-sha256",
            "-issuer",
            certificate,
            "-cert",
            certificate,
            "-req_text",
            "-reqout",
            str(tmp_path / "req.der"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    fields = dict(line.strip().split(": ", 1) for line in text.splitlines() if ": " in line.strip())
    data = certificates.certificate_hash_data(ca.cert_pem.bytes().decode())
    assert data["hashAlgorithm"] == "SHA256"
    assert data["issuerNameHash"].upper() == fields["Issuer Name Hash"]
    assert data["issuerKeyHash"].upper() == fields["Issuer Key Hash"]
    assert data["serialNumber"].upper() == fields["Serial Number"].lstrip("0")
