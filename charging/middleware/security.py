"""Handlers of the security extension's charge point → central system CALLs ("Improved
security for OCPP 1.6-J")."""

from __future__ import annotations

import logging
from typing import Any

from charging import certificates, conf
from charging.clock import parse_charger_time

from .base import Handler, MessageContext, Payload
from .core import FirmwareStatusNotificationHandler, note_job_status

logger = logging.getLogger(__name__)


class SecurityEventNotificationHandler(Handler):
    """SecurityEventNotification.req → stored (critical ones flagged and logged) → {}."""

    def __call__(self, context: MessageContext) -> Payload:
        from charging import services

        payload = context.call.payload
        services.security_event_record(
            charge_point=context.charge_point,
            type=payload["type"],
            timestamp=parse_charger_time(payload.get("timestamp")),
            tech_info=payload.get("techInfo", ""),
            received_at=context.received_at,
        )
        return {}


class SignCertificateHandler(Handler):
    """SignCertificate.req → Accepted, then CertificateSigned with the chain signed by the
    deployment's CA (OCPP_CA_CERTIFICATE / OCPP_CA_KEY); Rejected without a CA or for a CSR
    that does not name the charge point."""

    def __call__(self, context: MessageContext) -> Payload:
        ca = certificates.configured_ca()
        if ca is None:
            logger.warning("%s: SignCertificate rejected: no CA configured", context.charge_point)
            return {"status": "Rejected"}
        try:
            chain = certificates.sign_charge_point_csr(
                context.call.payload["csr"],
                charge_point_id=context.charge_point.id,
                ca=ca,
                days=int(conf.get("OCPP_CERTIFICATE_DAYS")),
            )
        except certificates.CertificateRequestRefused as refused:
            logger.warning("%s: SignCertificate rejected: %s", context.charge_point, refused)
            return {"status": "Rejected"}
        # Sent after this answer (the gateway queues it behind the reply).
        context.send_call("CertificateSigned", {"certificateChain": chain})
        return {"status": "Accepted"}


class SignedFirmwareStatusNotificationHandler(FirmwareStatusNotificationHandler):
    """SignedFirmwareStatusNotification.req → the charge point's firmware status and the
    SignedUpdateFirmware job of its requestId → {}: what FirmwareStatusNotification does."""


class LogStatusNotificationHandler(Handler):
    """LogStatusNotification.req → the GetLog job of its requestId → {}."""

    def __call__(self, context: MessageContext) -> Payload:
        note_job_status(context)
        return {}


def __getattr__(name: str) -> Any:
    # The handlers' former names, for dotted OCPP_MIDDLEWARE entries that say this module.
    if not name.endswith("Middleware"):  # `__path__` and the like, asked by imports
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .deprecated import alias_in

    return alias_in(__name__, name)
