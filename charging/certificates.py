"""Signing charge point certificates (security extension: SignCertificate → CertificateSigned)
with the deployment's CA, and the certificate hash data OCPP uses to name certificates.

The CA is configured with OCPP_CA_CERTIFICATE and OCPP_CA_KEY (PEM files); without them
SignCertificate is answered Rejected. Pure functions over `cryptography`, no Django but the
settings read in `configured_ca()`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import conf


class CertificateRequestRefused(ValueError):
    """The CSR cannot be signed; the message says why (it is logged, never sent)."""


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @classmethod
    def from_pem(cls, certificate: bytes, key: bytes) -> CertificateAuthority:
        private = serialization.load_pem_private_key(key, password=None)
        if not isinstance(private, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("the CA key must be RSA or EC")
        return cls(x509.load_pem_x509_certificate(certificate), private)


def configured_ca() -> CertificateAuthority | None:
    """The deployment's CA, or None when OCPP_CA_CERTIFICATE / OCPP_CA_KEY are not set."""
    certificate, key = conf.get("OCPP_CA_CERTIFICATE"), conf.get("OCPP_CA_KEY")
    if not certificate or not key:
        return None
    return CertificateAuthority.from_pem(Path(certificate).read_bytes(), Path(key).read_bytes())


def sign_charge_point_csr(
    csr_pem: str,
    *,
    charge_point_id: str,
    ca: CertificateAuthority,
    days: int,
    now: datetime | None = None,
) -> str:
    """The PEM certificate chain (the new certificate, then the CA's) for a charge point's CSR.

    The CSR must be well-formed, self-signed correctly and name the charge point in its CN:
    that is what the gateway checks of a client certificate (security profile 3).
    """
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
    except ValueError as error:
        raise CertificateRequestRefused(f"not a PEM certificate signing request: {error}") from None
    if not csr.is_signature_valid:
        raise CertificateRequestRefused("the CSR's signature is invalid")
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if [name.value for name in names] != [charge_point_id]:
        raise CertificateRequestRefused(
            f"the CSR's CN is {[n.value for n in names]!r}, not the charge point id"
        )
    now = now or datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.certificate.subject)
        .public_key(csr.public_key())
        .serial_number(int.from_bytes(secrets.token_bytes(16), "big") >> 1)
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=True,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return (
        certificate.public_bytes(serialization.Encoding.PEM)
        + ca.certificate.public_bytes(serialization.Encoding.PEM)
    ).decode()


_HASHES = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}


def certificate_hash_data(certificate_pem: str, *, algorithm: str = "SHA256") -> dict[str, str]:
    """The OCPP certificateHashData of a root certificate (as in OCSP's CertID, RFC 6960): the
    hash of its issuer's DER name, of its issuer's public key (its own: a root is self-issued)
    and its serial number in hex."""
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key_bytes = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key_bytes = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    else:
        raise ValueError("only RSA and EC certificates are supported")

    def digest(data: bytes) -> str:
        hasher = hashes.Hash(_HASHES[algorithm]())
        hasher.update(data)
        return hasher.finalize().hex()

    return {
        "hashAlgorithm": algorithm,
        "issuerNameHash": digest(certificate.issuer.public_bytes()),
        "issuerKeyHash": digest(key_bytes),
        "serialNumber": format(certificate.serial_number, "x"),
    }
