"""Handlers of the Core profile's charge point → central system CALLs that need no transaction."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from charging import conf
from charging.clock import format_ocpp_time, parse_charger_time
from charging.protocol.errors import PropertyConstraintViolation

from .base import Handler, MessageContext, Payload

_MAX_INT32 = 2**31 - 1


def connector_id_of(payload: Payload, *, minimum: int = 0) -> int:
    """A payload's connectorId; the schema allows negative ids, the spec does not."""
    value = payload["connectorId"]
    if not minimum <= value <= _MAX_INT32:
        raise PropertyConstraintViolation(
            details={"cause": f"connectorId: {value} is out of range"}
        )
    return value


class AuthorizeHandler(Handler):
    """Authorize.req → idTagInfo (OCPP 1.6 §4.1)."""

    def __call__(self, context: MessageContext) -> Payload:
        from charging import services

        info = services.id_tag_authorize(id_tag=context.call.payload["idTag"])
        if info["status"] == "Accepted":
            services.charge_point_authorized(
                charge_point=context.charge_point, at=context.received_at
            )
        return {"idTagInfo": info}


class BootNotificationHandler(Handler):
    """BootNotification.req → Accepted with our clock and the heartbeat interval (§4.2); Pending
    or Rejected with OCPP_PENDING_INTERVAL while the charge point is not approved
    (charging.admission)."""

    def __call__(self, context: MessageContext) -> Payload:
        from charging import services

        payload = context.call.payload
        services.charge_point_boot(
            charge_point=context.charge_point,
            vendor=payload["chargePointVendor"],
            model=payload["chargePointModel"],
            serial_number=payload.get("chargePointSerialNumber", ""),
            charge_box_serial_number=payload.get("chargeBoxSerialNumber", ""),
            firmware_version=payload.get("firmwareVersion", ""),
            iccid=payload.get("iccid", ""),
            imsi=payload.get("imsi", ""),
            meter_type=payload.get("meterType", ""),
            meter_serial_number=payload.get("meterSerialNumber", ""),
            at=context.received_at,
        )
        status = context.charge_point.registration_status
        # Not Accepted: the interval is the wait before the next BootNotification (§4.2).
        interval = "OCPP_HEARTBEAT_INTERVAL" if status == "Accepted" else "OCPP_PENDING_INTERVAL"
        return {
            "status": status,
            "currentTime": format_ocpp_time(timezone.now()),
            "interval": int(conf.get(interval)),
        }


class DataTransferHandler(Handler):
    """DataTransfer.req → UnknownVendorId (§4.3): put a middleware before it to handle yours."""

    def __call__(self, context: MessageContext) -> Payload:
        return {"status": "UnknownVendorId"}


class DiagnosticsStatusNotificationHandler(Handler):
    """DiagnosticsStatusNotification.req → stored on the charge point and its job (§4.4)."""

    def __call__(self, context: MessageContext) -> Payload:
        from charging import services

        services.charge_point_diagnostics_status(
            charge_point=context.charge_point,
            status=context.call.payload["status"],
            at=context.received_at,
        )
        note_job_status(context)
        return {}


class FirmwareStatusNotificationHandler(Handler):
    """FirmwareStatusNotification.req → stored on the charge point and its job (§4.5)."""

    def __call__(self, context: MessageContext) -> Payload:
        from charging import services

        services.charge_point_firmware_status(
            charge_point=context.charge_point,
            status=context.call.payload["status"],
            at=context.received_at,
        )
        note_job_status(context)
        return {}


def note_job_status(context: MessageContext) -> None:
    """Move the firmware / diagnostics / log job the notification is about (services.jobs)."""
    from charging import services

    services.job_status_notified(
        charge_point=context.charge_point,
        action=context.call.action,
        status=context.call.payload["status"],
        request_id=context.call.payload.get("requestId"),
        at=context.received_at,
    )


class HeartbeatHandler(Handler):
    """Heartbeat.req → our clock (§4.6)."""

    def __call__(self, context: MessageContext) -> Payload:
        from charging import services

        services.charge_point_heartbeat(charge_point=context.charge_point, at=context.received_at)
        return {"currentTime": format_ocpp_time(timezone.now())}


class StatusNotificationHandler(Handler):
    """StatusNotification.req → stored per connector, 0 included, whatever the status (§4.9)."""

    def __call__(self, context: MessageContext) -> Payload:
        from charging import services

        payload = context.call.payload
        services.connector_status_update(
            charge_point=context.charge_point,
            connector_id=connector_id_of(payload),
            status=payload["status"],
            error_code=payload["errorCode"],
            info=payload.get("info", ""),
            vendor_id=payload.get("vendorId", ""),
            vendor_error_code=payload.get("vendorErrorCode", ""),
            timestamp=parse_charger_time(payload.get("timestamp")),
            received_at=context.received_at,
        )
        return {}


def __getattr__(name: str) -> Any:
    # The handlers' former names, for dotted OCPP_MIDDLEWARE entries that say this module.
    if not name.endswith("Middleware"):  # `__path__` and the like, asked by imports
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .deprecated import alias_in

    return alias_in(__name__, name)
