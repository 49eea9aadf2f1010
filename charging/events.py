"""Domain events: Django signals sent after commit, and the webhook deliveries they make (docs/events.md)."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction as db_transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver
from django.utils import timezone

from . import conf
from .models import (
    ChargePoint,
    Connector,
    MeterValue,
    OutboundCall,
    OutboundCallStatus,
    SecurityEvent,
    Transaction,
    Webhook,
)

logger = logging.getLogger(__name__)

# Every signal also gets `event` (its name), `event_id` (a UUID, the webhooks' event id) and
# `created` (server time of the effect); the other arguments are listed in docs/events.md.
charge_point_connected = Signal()  # charge_point, connection_id, at
charge_point_disconnected = Signal()  # charge_point, connection_id, code, reason, at
charge_point_booted = Signal()  # charge_point, at
connector_status_changed = Signal()  # charge_point, connector_id, status, error_code, … (docs)
transaction_started = Signal()  # charge_point, transaction
transaction_stopped = Signal()  # charge_point, transaction
meter_values_recorded = Signal()  # charge_point, connector_id, transaction_id, samples, stored
command_answered = Signal()  # call
command_failed = Signal()  # call
command_timed_out = Signal()  # call
security_event_received = Signal()  # charge_point, security_event


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _charge_point_data(charge_point: ChargePoint, **_: Any) -> dict[str, Any]:
    return {"charge_point_id": charge_point.id}


def _connection_data(
    charge_point: ChargePoint, connection_id: str, at: datetime, **more: Any
) -> dict[str, Any]:
    data = {"charge_point_id": charge_point.id, "connection_id": connection_id, "at": _iso(at)}
    if "code" in more:
        data.update(code=more["code"], reason=more["reason"])
    return data


def _boot_data(charge_point: ChargePoint, at: datetime, **_: Any) -> dict[str, Any]:
    return {
        "charge_point_id": charge_point.id,
        "at": _iso(at),
        "vendor": charge_point.vendor,
        "model": charge_point.model,
        "serial_number": charge_point.serial_number,
        "firmware_version": charge_point.firmware_version,
        "registration_status": charge_point.registration_status,
    }


def _status_data(charge_point: ChargePoint, **fields: Any) -> dict[str, Any]:
    return {
        "charge_point_id": charge_point.id,
        "connector_id": fields["connector_id"],
        "status": fields["status"],
        "error_code": fields["error_code"],
        "info": fields["info"],
        "vendor_id": fields["vendor_id"],
        "vendor_error_code": fields["vendor_error_code"],
        "timestamp": _iso(fields["timestamp"]),
        "at": _iso(fields["status_updated_at"]),
    }


def _transaction_data(transaction: Transaction, **_: Any) -> dict[str, Any]:
    data = {
        "charge_point_id": transaction.charge_point_id,
        "transaction_id": transaction.id,
        "connector_id": transaction.connector_id,
        "id_tag": transaction.id_tag,
        "meter_start": transaction.meter_start,
        "started_at": _iso(transaction.started_at),
        "start_received_at": _iso(transaction.start_received_at),
    }
    if transaction.meter_stop is not None:
        data.update(
            meter_stop=transaction.meter_stop,
            energy_wh=transaction.meter_stop - transaction.meter_start,
            stopped_at=_iso(transaction.stopped_at),
            stop_received_at=_iso(transaction.stop_received_at),
            stop_reason=transaction.stop_reason,
            closed_as_orphan=transaction.closed_as_orphan,
        )
    return data


def _meter_values_data(
    charge_point: ChargePoint,
    connector_id: int,
    transaction_id: int | None,
    samples: list[MeterValue],
    stored: int,
    **_: Any,
) -> dict[str, Any]:
    return {
        "charge_point_id": charge_point.id,
        "connector_id": connector_id,
        "transaction_id": transaction_id,
        "stored": stored,
        "samples": [
            {
                "timestamp": _iso(sample.timestamp),
                "value": sample.value,
                "measurand": sample.measurand,
                "unit": sample.unit,
                "context": sample.context,
                "phase": sample.phase,
                "location": sample.location,
            }
            for sample in samples
        ],
    }


def _command_data(call: OutboundCall, **_: Any) -> dict[str, Any]:
    return {
        "charge_point_id": call.charge_point_id,
        "call_id": call.id,
        "unique_id": call.unique_id,
        "action": call.action,
        "status": call.status,
        "response": call.response,
        "error_code": call.error_code,
        "error_description": call.error_description,
        "requested_by": call.requested_by,
        "answered_at": _iso(call.answered_at),
    }


def _security_event_data(security_event: SecurityEvent, **_: Any) -> dict[str, Any]:
    return {
        "charge_point_id": security_event.charge_point_id,
        "type": security_event.type,
        "tech_info": security_event.tech_info,
        "timestamp": _iso(security_event.timestamp),
        "received_at": _iso(security_event.received_at),
        "critical": security_event.critical,
    }


@dataclass(frozen=True)
class EventType:
    signal: Signal
    sender: type
    data: Callable[..., dict[str, Any]]


EVENTS: dict[str, EventType] = {
    "charge_point.connected": EventType(charge_point_connected, ChargePoint, _connection_data),
    "charge_point.disconnected": EventType(
        charge_point_disconnected, ChargePoint, _connection_data
    ),
    "charge_point.booted": EventType(charge_point_booted, ChargePoint, _boot_data),
    "connector.status_changed": EventType(connector_status_changed, Connector, _status_data),
    "transaction.started": EventType(transaction_started, Transaction, _transaction_data),
    "transaction.stopped": EventType(transaction_stopped, Transaction, _transaction_data),
    "meter_values.recorded": EventType(meter_values_recorded, MeterValue, _meter_values_data),
    "command.answered": EventType(command_answered, OutboundCall, _command_data),
    "command.failed": EventType(command_failed, OutboundCall, _command_data),
    "command.timed_out": EventType(command_timed_out, OutboundCall, _command_data),
    "security_event.received": EventType(
        security_event_received, SecurityEvent, _security_event_data
    ),
}
EVENT_NAMES = tuple(EVENTS)

_COMMAND_EVENTS = {
    OutboundCallStatus.ANSWERED: "command.answered",
    OutboundCallStatus.TIMEOUT: "command.timed_out",
}


def command_event(status: str) -> str:
    """The event of a command that ended `status`: answered, timed out, or else failed."""
    return _COMMAND_EVENTS.get(OutboundCallStatus(status), "command.failed")


# --- which events active webhooks want, cached per process ----------------------------------


class _Subscriptions:
    """Event name → ids of the active webhooks subscribed to it, read at most every
    OCPP_WEBHOOK_CACHE_SECONDS (other processes' changes arrive within that), dropped at once
    when this process saves or deletes a webhook."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_event: dict[str, tuple[int, ...]] = {}
        self._expires = 0.0

    def get(self) -> dict[str, tuple[int, ...]]:
        if time.monotonic() < self._expires:
            return self._by_event
        with self._lock:
            by_event: dict[str, list[int]] = {}
            for webhook_id, names in Webhook.objects.filter(active=True).values_list(
                "id", "events"
            ):
                for name in names or ():
                    by_event.setdefault(name, []).append(webhook_id)
            self._by_event = {name: tuple(ids) for name, ids in by_event.items()}
            self._expires = time.monotonic() + float(conf.get("OCPP_WEBHOOK_CACHE_SECONDS"))
            return self._by_event

    def clear(self) -> None:
        self._expires = 0.0


subscriptions = _Subscriptions()


@receiver(post_save, sender=Webhook, dispatch_uid="levity-webhook-saved")
@receiver(post_delete, sender=Webhook, dispatch_uid="levity-webhook-deleted")
def _webhooks_changed(**_: Any) -> None:
    subscriptions.clear()


# --- emitting -------------------------------------------------------------------------------


def emit(name: str, **arguments: Any) -> None:
    """Announce the effect `name` that the caller's transaction has just made: the subscribed
    webhooks' deliveries are written now, in that transaction (an outbox: rolled back with the
    effect, never lost once it commits), the signal is sent once it commits.

    Call it only for a new effect (not for a repeated message that changed nothing). Costs a
    dictionary lookup when nothing listens.
    """
    event_type = EVENTS[name]
    webhook_ids = subscriptions.get().get(name, ())
    if not webhook_ids and not event_type.signal.receivers:
        return
    event_id, created = uuid.uuid4(), timezone.now()
    if webhook_ids:
        from .services.webhooks import webhook_deliveries_create

        body = json.dumps(
            {
                "id": str(event_id),
                "event": name,
                "created": created.isoformat(),
                "data": event_type.data(**arguments),
            },
            cls=DjangoJSONEncoder,
            separators=(",", ":"),
        )
        webhook_deliveries_create(webhook_ids=webhook_ids, event=name, event_id=event_id, body=body)
    if event_type.signal.receivers:
        db_transaction.on_commit(
            lambda: _send(name, event_type, event_id, created, arguments), robust=True
        )


def _send(
    name: str, event_type: EventType, event_id: uuid.UUID, created: datetime, arguments: dict
) -> None:
    # Robust: a receiver's bug is logged and must not fail the charger's message, nor keep the
    # other receivers from their event.
    for receiver_, error in event_type.signal.send_robust(
        event_type.sender, event=name, event_id=event_id, created=created, **arguments
    ):
        if isinstance(error, Exception):
            logger.error("receiver %r of %s failed: %r", receiver_, name, error, exc_info=error)
