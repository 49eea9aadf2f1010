"""The security extension's charger-initiated messages (Improved security for OCPP 1.6-J)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from .. import events
from ..models import ChargePoint, SecurityEvent
from .messages import clean_text

logger = logging.getLogger(__name__)


def security_event_record(
    *,
    charge_point: ChargePoint,
    type: str,
    timestamp: datetime | None,
    tech_info: str = "",
    received_at: datetime | None = None,
) -> SecurityEvent:
    """Store a SecurityEventNotification; a critical one (Appendix 1) is also logged as an
    error, for the operators' alerting. The same event again (type, charger time, techInfo),
    whatever message carried it, is the stored one: it is not stored or alerted twice."""
    fields = {
        "type": clean_text(type)[:50],
        "tech_info": clean_text(tech_info or "")[:255],
        "timestamp": timestamp,
    }
    if timestamp is not None:
        stored = SecurityEvent.objects.filter(charge_point=charge_point, **fields).first()
        if stored is not None:
            return stored
    event = SecurityEvent.objects.create(
        charge_point=charge_point,
        received_at=received_at or timezone.now(),
        critical=type in SecurityEvent.CRITICAL_TYPES,
        **fields,
    )
    events.emit("security_event.received", charge_point=charge_point, security_event=event)
    if event.critical:
        logger.error("%s: critical security event %s: %s", charge_point.id, type, tech_info)
    return event
