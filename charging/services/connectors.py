"""Connectors: status notifications, remote start results, availability and schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from .. import events
from ..models import ChargePoint, Connector
from .messages import clean_json

# --- connectors -----------------------------------------------------------------------------


def connector_status_update(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    status: str,
    error_code: str,
    info: str = "",
    vendor_id: str = "",
    vendor_error_code: str = "",
    timestamp: datetime | None = None,
    received_at: datetime | None = None,
) -> None:
    """Store a StatusNotification; connector 0 is the charge point itself (OCPP 1.6 §4.9).

    Called under the charge point's lock (charge_point_lock), which serialises its connectors'
    writes: one UPDATE, and an INSERT the first time (update_or_create's savepoint and select
    would cost four statements).
    """
    fields = {
        "status": status,
        "error_code": error_code,
        "info": info,
        "vendor_id": vendor_id,
        "vendor_error_code": vendor_error_code,
        "timestamp": timestamp,
        "status_updated_at": received_at or timezone.now(),
    }
    if not Connector.objects.filter(charge_point=charge_point, connector_id=connector_id).update(
        **fields
    ):
        Connector.objects.create(charge_point=charge_point, connector_id=connector_id, **fields)
    events.emit(
        "connector.status_changed", charge_point=charge_point, connector_id=connector_id, **fields
    )


def connector_remote_start_result(
    *, charge_point: ChargePoint, connector_id: int, status: str, at: datetime | None = None
) -> Connector:
    """Remember how the charger answered an automatic RemoteStartTransaction."""
    connector, _ = Connector.objects.get_or_create(
        charge_point=charge_point, connector_id=connector_id
    )
    connector.remote_start_status = status[:32]
    connector.remote_start_status_at = at or timezone.now()
    connector.save(update_fields=["remote_start_status", "remote_start_status_at"])
    return connector


def connector_availability_set(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    availability: str,
    status: str,
    at: datetime | None = None,
) -> None:
    """Record an accepted ChangeAvailability; connector 0 is the whole charge point, so every
    connector we know changes with it (OCPP 1.6 §5.2)."""
    at = at or timezone.now()
    Connector.objects.get_or_create(charge_point=charge_point, connector_id=connector_id)
    connectors = Connector.objects.filter(charge_point=charge_point)
    if connector_id != 0:
        connectors = connectors.filter(connector_id=connector_id)
    connectors.update(
        availability=availability, availability_status=status, availability_updated_at=at
    )


def connector_composite_schedule_set(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    schedule: dict[str, Any],
    request: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> Connector:
    """An accepted GetCompositeSchedule.conf, kept with the request it answers (its duration
    and chargingRateUnit say what the schedule covers)."""
    connector, _ = Connector.objects.get_or_create(
        charge_point=charge_point, connector_id=connector_id
    )
    connector.composite_schedule = clean_json(schedule)
    connector.composite_schedule_request = clean_json(request)
    connector.composite_schedule_at = at or timezone.now()
    connector.save(
        update_fields=["composite_schedule", "composite_schedule_request", "composite_schedule_at"]
    )
    return connector
