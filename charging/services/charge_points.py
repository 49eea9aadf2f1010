"""Charge points: the per-charge-point lock, boot, heartbeat, statuses, configuration keys."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone

from .. import selectors
from ..models import ChargePoint, ConfigurationKey
from .messages import clean_text

logger = logging.getLogger(__name__)

# --- charge points --------------------------------------------------------------------------

MAX_CHARGE_POINT_ID_LENGTH = 48


def charge_point_lock(*, charge_point_id: str) -> ChargePoint:
    """The charge point, created on first contact, locked until the end of the transaction:
    one charge point's events are processed one at a time, whichever worker gets them."""
    if (
        not isinstance(charge_point_id, str)
        or not 0 < len(charge_point_id) <= MAX_CHARGE_POINT_ID_LENGTH
    ):
        raise ValueError(f"bad charge point id {charge_point_id!r}")
    locked = ChargePoint.objects.select_for_update()
    try:
        return locked.get(id=charge_point_id)  # one query for a known charge point
    except ChargePoint.DoesNotExist:
        from ..admission import approved_on_creation

        ChargePoint.objects.get_or_create(
            id=charge_point_id, defaults={"approved": approved_on_creation()}
        )
    return locked.get(id=charge_point_id)


def charge_point_boot(
    *,
    charge_point: ChargePoint,
    vendor: str,
    model: str,
    serial_number: str = "",
    charge_box_serial_number: str = "",
    firmware_version: str = "",
    iccid: str = "",
    imsi: str = "",
    meter_type: str = "",
    meter_serial_number: str = "",
    at: datetime | None = None,
) -> ChargePoint:
    """Store what a BootNotification reports; its registration status is Accepted once approved
    (charging.admission.registration_status), Pending or Rejected before."""
    from ..admission import registration_status

    charge_point.vendor = vendor
    charge_point.model = model
    charge_point.serial_number = serial_number
    charge_point.charge_box_serial_number = charge_box_serial_number
    charge_point.firmware_version = firmware_version
    charge_point.iccid = iccid
    charge_point.imsi = imsi
    charge_point.meter_type = meter_type
    charge_point.meter_serial_number = meter_serial_number
    charge_point.registration_status = registration_status(charge_point=charge_point)
    charge_point.last_boot_at = at or timezone.now()
    charge_point.save(
        update_fields=[
            "vendor",
            "model",
            "serial_number",
            "charge_box_serial_number",
            "firmware_version",
            "iccid",
            "imsi",
            "meter_type",
            "meter_serial_number",
            "registration_status",
            "last_boot_at",
        ]
    )
    return charge_point


def charge_point_heartbeat(*, charge_point: ChargePoint, at: datetime | None = None) -> ChargePoint:
    charge_point.last_heartbeat_at = at or timezone.now()
    charge_point.save(update_fields=["last_heartbeat_at"])
    return charge_point


def charge_point_authorized(*, charge_point: ChargePoint, at: datetime | None = None) -> None:
    """An Authorize was answered Accepted: its driver is about to start a session."""
    charge_point.last_authorized_at = at or timezone.now()
    charge_point.save(update_fields=["last_authorized_at"])


def charge_point_message_received(
    *,
    charge_point: ChargePoint,
    at: datetime | None = None,
    connection_id: str = "",
    call: tuple[str, str] | None = None,
) -> ChargePoint:
    """Note a frame from `connection_id` (a CALL's `(unique id, action)` with it); one from the
    current connection after its gateway's presence lease expired shows the gateway alive after
    all (Redis was out of its reach), so the charge point is connected again."""
    charge_point.last_message_at = at or timezone.now()
    fields = ["last_message_at"]
    if call is not None:
        # As message_record stores them: a repeat is compared with the stored CALL.
        charge_point.last_call_unique_id = clean_text(call[0])[:64]
        charge_point.last_call_action = clean_text(call[1])[:64]
        fields += ["last_call_unique_id", "last_call_action"]
    if (
        connection_id
        and not charge_point.connected
        and connection_id == charge_point.connection_id
        and selectors.connection_presence_expired(
            charge_point=charge_point, connection_id=connection_id
        )
    ):
        logger.info("%s: heard from again after its presence expired", charge_point.id)
        charge_point.connected = True
        fields.append("connected")
    charge_point.save(update_fields=fields)
    return charge_point


def charge_point_diagnostics_status(
    *, charge_point: ChargePoint, status: str, at: datetime | None = None
) -> ChargePoint:
    charge_point.diagnostics_status = status
    charge_point.diagnostics_status_at = at or timezone.now()
    charge_point.save(update_fields=["diagnostics_status", "diagnostics_status_at"])
    return charge_point


def charge_point_firmware_status(
    *, charge_point: ChargePoint, status: str, at: datetime | None = None
) -> ChargePoint:
    charge_point.firmware_status = status
    charge_point.firmware_status_at = at or timezone.now()
    charge_point.save(update_fields=["firmware_status", "firmware_status_at"])
    return charge_point


# --- answers that change our state (run when a call is answered) ----------------------------


def configuration_keys_store(
    *,
    charge_point: ChargePoint,
    keys: list[dict[str, Any]],
    unknown: Iterable[str] = (),
    complete: bool = False,
    at: datetime | None = None,
) -> None:
    """Store GetConfiguration.conf `configurationKey` entries; `complete` (no key was asked
    for: the charger listed all of them) drops the keys it no longer reports."""
    at = at or timezone.now()
    for entry in keys:
        if str(entry.get("key", "")).lower() == "authorizationkey":
            continue  # write-only (security whitepaper); never stored should a charger report it
        ConfigurationKey.objects.update_or_create(
            charge_point=charge_point,
            key=clean_text(str(entry["key"]))[:50],
            defaults={
                "value": clean_text(entry["value"]) if entry.get("value") is not None else None,
                "readonly": bool(entry.get("readonly", False)),
                "updated_at": at,
            },
        )
    stale = ConfigurationKey.objects.filter(charge_point=charge_point)
    if complete:
        stale.exclude(key__in=[str(entry["key"])[:50] for entry in keys]).delete()
    else:
        stale.filter(key__in=list(unknown)).delete()


def configuration_key_set(
    *, charge_point: ChargePoint, key: str, value: str, at: datetime | None = None
) -> ConfigurationKey:
    entry, _ = ConfigurationKey.objects.update_or_create(
        charge_point=charge_point,
        key=clean_text(key)[:50],
        defaults={"value": clean_text(value), "updated_at": at or timezone.now()},
    )
    return entry


def charge_point_local_list_version_set(
    *, charge_point: ChargePoint, version: int, at: datetime | None = None
) -> ChargePoint:
    charge_point.local_list_version = version
    charge_point.local_list_version_at = at or timezone.now()
    charge_point.save(update_fields=["local_list_version", "local_list_version_at"])
    return charge_point
