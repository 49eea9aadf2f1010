"""A throw-away CA (trustme) and charge point CSRs, for the certificate tests."""

from __future__ import annotations

from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def csr_pem(common_name: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Levity CPO"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    request = (
        x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM).decode()


def write_ca(directory: Path) -> tuple[trustme.CA, Path, Path]:
    """A CA and the paths of its PEM certificate and key (OCPP_CA_CERTIFICATE / OCPP_CA_KEY)."""
    ca = trustme.CA()
    certificate, key = directory / "ca.pem", directory / "ca.key"
    ca.cert_pem.write_to_path(str(certificate))
    ca.private_key_pem.write_to_path(str(key))
    return ca, certificate, key
