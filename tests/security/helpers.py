"""A throw-away CA (trustme) and charge point CSRs, for the certificate tests."""

from __future__ import annotations

from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def csr_and_key(common_name: str) -> tuple[str, bytes]:
    """A charge point's certificate signing request (PEM) naming `common_name`, and its new
    private key (PEM), as a charger makes them before a SignCertificate."""
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
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return request.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def csr_pem(common_name: str) -> str:
    return csr_and_key(common_name)[0]


def write_ca(directory: Path) -> tuple[trustme.CA, Path, Path]:
    """A CA and the paths of its PEM certificate and key (OCPP_CA_CERTIFICATE / OCPP_CA_KEY)."""
    ca = trustme.CA()
    certificate, key = directory / "ca.pem", directory / "ca.key"
    ca.cert_pem.write_to_path(str(certificate))
    ca.private_key_pem.write_to_path(str(key))
    return ca, certificate, key
