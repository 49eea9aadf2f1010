"""What certificates a charge point holds, kept from the answers to InstallCertificate,
GetInstalledCertificateIds and DeleteCertificate (security extension)."""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from ..certificates import certificate_hash_data
from ..models import InstalledCertificate, OutboundCall

logger = logging.getLogger(__name__)

_FIELDS = {
    "hashAlgorithm": "hash_algorithm",
    "issuerNameHash": "issuer_name_hash",
    "issuerKeyHash": "issuer_key_hash",
    "serialNumber": "serial_number",
}


def _by_hash(hash_data: dict[str, Any]) -> dict[str, str]:
    return {field: str(hash_data.get(key, "")) for key, field in _FIELDS.items()}


def installed_certificate_answered(*, call: OutboundCall, response: dict[str, Any]) -> None:
    """InstallCertificate Accepted: the charge point holds it (named by its hash data)."""
    if response.get("status") != "Accepted":
        return
    pem = call.payload.get("certificate", "")
    try:
        hash_data = certificate_hash_data(pem)
    except ValueError as error:
        logger.warning("%s: installed certificate not readable: %s", call.charge_point_id, error)
        return
    InstalledCertificate.objects.update_or_create(
        charge_point=call.charge_point,
        **_by_hash(hash_data),
        defaults={
            "certificate_type": call.payload.get("certificateType", ""),
            "certificate": pem,
            "updated_at": call.answered_at or timezone.now(),
        },
    )


def installed_certificates_listed(*, call: OutboundCall, response: dict[str, Any]) -> None:
    """GetInstalledCertificateIds: the charge point's certificates of that type are the ones it
    listed (Accepted) or none (NotFound); the PEMs we know are kept."""
    certificate_type = call.payload.get("certificateType", "")
    if response.get("status") not in ("Accepted", "NotFound"):
        return
    listed = [_by_hash(item) for item in response.get("certificateHashData") or []]
    held = InstalledCertificate.objects.filter(
        charge_point=call.charge_point, certificate_type=certificate_type
    )
    for certificate in held:
        if {field: getattr(certificate, field) for field in _FIELDS.values()} not in listed:
            certificate.delete()
    for hash_data in listed:
        InstalledCertificate.objects.update_or_create(
            charge_point=call.charge_point,
            **hash_data,
            defaults={
                "certificate_type": certificate_type,
                "updated_at": call.answered_at or timezone.now(),
            },
        )


def installed_certificate_deleted(*, call: OutboundCall, response: dict[str, Any]) -> None:
    """DeleteCertificate Accepted: the charge point no longer holds it."""
    if response.get("status") == "Accepted":
        InstalledCertificate.objects.filter(
            charge_point=call.charge_point, **_by_hash(call.payload.get("certificateHashData", {}))
        ).delete()
