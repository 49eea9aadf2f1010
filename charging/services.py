"""Writes of the charging domain: keyword-only, typed business rules, no sockets and no CALLERRORs."""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import InterfaceError, OperationalError
from django.db import transaction as db_transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from . import conf, meter_jumps, outcomes, selectors
from .clock import format_ocpp_time, parse_charger_time
from .models import (
    PENDING_CALL_STATUSES,
    ChargePoint,
    ConfigurationKey,
    ConnectionEvent,
    Connector,
    Direction,
    IdTagStatus,
    Message,
    MeterValue,
    OutboundCall,
    OutboundCallStatus,
    Transaction,
)
from .protocol import Call

logger = logging.getLogger(__name__)

# Defaults of an omitted sampledValue field (OCPP 1.6 SampledValue type).
SAMPLED_VALUE_DEFAULTS = {
    "context": "Sample.Periodic",
    "format": "Raw",
    "measurand": "Energy.Active.Import.Register",
    "location": "Outlet",
    "unit": "Wh",
}
# StopTransaction.req `reason` may only be omitted when it is Local (OCPP 1.6 §4.10, StopTransaction.req).
DEFAULT_STOP_REASON = "Local"
ORPHAN_STOP_REASON = "Other"

_NUMERIC_LIMIT = Decimal(10) ** 14  # MeterValue.numeric_value: 20 digits, 6 of them decimals
_NUMERIC_STEP = Decimal("0.000001")


# --- storage hygiene ------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """`value` made storable in PostgreSQL: no NUL characters, no lone surrogates."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def clean_json(value: Any) -> Any:
    """A JSON value PostgreSQL can store: strings (keys too) through `clean_text`, no NaN."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # Python's json reads `Infinity` and `NaN`; PostgreSQL's jsonb does not
    return value


def _append_note(current: str, note: str) -> str:
    stamp = format_ocpp_time(timezone.now())
    return f"{current}\n{stamp} {note}".strip()


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
    if not ChargePoint.objects.filter(id=charge_point_id).exists():
        from .admission import approved_on_creation

        ChargePoint.objects.get_or_create(
            id=charge_point_id, defaults={"approved": approved_on_creation()}
        )
    return ChargePoint.objects.select_for_update().get(id=charge_point_id)


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
    from .admission import registration_status

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


def charge_point_message_received(
    *, charge_point: ChargePoint, at: datetime | None = None
) -> ChargePoint:
    charge_point.last_message_at = at or timezone.now()
    charge_point.save(update_fields=["last_message_at"])
    return charge_point


def charge_point_connected(
    *,
    charge_point: ChargePoint,
    connection_id: str,
    gateway_id: str = "",
    reply_to: str = "",
    remote: str = "",
    subprotocol: str | None = None,
    at: datetime | None = None,
    frame_id: str | None = None,
) -> ConnectionEvent:
    """Record an accepted websocket; it becomes the current connection unless a newer one is."""
    at = at or timezone.now()
    event = ConnectionEvent.objects.create(
        charge_point=charge_point,
        kind=ConnectionEvent.Kind.CONNECT,
        gateway_id=clean_text(gateway_id)[:255],
        connection_id=clean_text(connection_id)[:64],
        remote=clean_text(remote or "")[:255],
        subprotocol=clean_text(subprotocol or "")[:64],
        frame_id=frame_id,
        at=at,
    )
    # Events of two connections are not ordered with each other: a connect older than the
    # current connection's (e.g. from another gateway, delivered late) must not take over.
    if charge_point.last_connect_at is not None and at < charge_point.last_connect_at:
        logger.info("%s: ignoring stale connect %s", charge_point.id, connection_id)
        return event
    charge_point.connected = True
    charge_point.connection_id = event.connection_id
    charge_point.gateway_id = event.gateway_id
    charge_point.reply_to = clean_text(reply_to)[:255]
    charge_point.last_connect_at = at
    charge_point.save(
        update_fields=["connected", "connection_id", "gateway_id", "reply_to", "last_connect_at"]
    )
    # A CALL handed to an older connection can no longer be answered, even when that
    # connection's gateway died without reporting its disconnect.
    for call in (
        OutboundCall.objects.filter(charge_point=charge_point, status=OutboundCallStatus.SENT)
        .exclude(connection_id=event.connection_id)
        .select_for_update()
    ):
        outbound_call_complete(
            call=call,
            status=OutboundCallStatus.OFFLINE,
            error_description="the charge point reconnected before answering",
        )
    return event


def charge_point_disconnected(
    *,
    charge_point: ChargePoint,
    connection_id: str,
    gateway_id: str = "",
    code: int | None = None,
    reason: str = "",
    at: datetime | None = None,
    frame_id: str | None = None,
) -> ConnectionEvent:
    """Record a closed websocket. Only the current connection's close marks the charge point
    offline; the calls still pending on the closed connection can no longer be answered."""
    at = at or timezone.now()
    event = ConnectionEvent.objects.create(
        charge_point=charge_point,
        kind=ConnectionEvent.Kind.DISCONNECT,
        gateway_id=clean_text(gateway_id)[:255],
        connection_id=clean_text(connection_id)[:64],
        close_code=code,
        reason=clean_text(reason or ""),
        frame_id=frame_id,
        at=at,
    )
    if charge_point.connection_id == event.connection_id:
        charge_point.connected = False
        charge_point.last_disconnect_at = at
        charge_point.save(update_fields=["connected", "last_disconnect_at"])
    for call in selectors.outbound_call_list_pending(
        charge_point=charge_point, connection_id=event.connection_id
    ).select_for_update():
        outbound_call_complete(call=call, status=OutboundCallStatus.OFFLINE)
    return event


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
) -> Connector:
    """Store a StatusNotification; connector 0 is the charge point itself (OCPP 1.6 §4.9)."""
    connector, _ = Connector.objects.update_or_create(
        charge_point=charge_point,
        connector_id=connector_id,
        defaults={
            "status": status,
            "error_code": error_code,
            "info": info,
            "vendor_id": vendor_id,
            "vendor_error_code": vendor_error_code,
            "timestamp": timestamp,
            "status_updated_at": received_at or timezone.now(),
        },
    )
    return connector


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


# --- id tags --------------------------------------------------------------------------------


def id_tag_authorize(*, id_tag: str, now: datetime | None = None) -> dict[str, Any]:
    """The idTagInfo (OCPP 1.6 IdTagInfo type) for `id_tag`."""
    tag = selectors.id_tag_get(id_tag=id_tag)
    if tag is None:
        accepted = conf.get("OCPP_ACCEPT_UNKNOWN_ID_TAGS")
        return {"status": IdTagStatus.ACCEPTED.value if accepted else IdTagStatus.INVALID.value}
    now = now or timezone.now()
    status = IdTagStatus(tag.status)
    if status == IdTagStatus.ACCEPTED and tag.expiry_date is not None and tag.expiry_date <= now:
        status = IdTagStatus.EXPIRED
    info: dict[str, Any] = {"status": status.value}
    if tag.expiry_date is not None:
        info["expiryDate"] = format_ocpp_time(tag.expiry_date)
    if tag.parent is not None:
        info["parentIdTag"] = tag.parent.id_tag
    return info


# --- transactions ---------------------------------------------------------------------------


def transaction_start(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    id_tag: str,
    meter_start: int,
    timestamp: datetime | None,
    reservation_id: int | None = None,
    id_tag_status: str = "",
    received_at: datetime | None = None,
) -> Transaction:
    """Open a transaction; an identical StartTransaction.req (a retry) returns the one it made."""
    existing = selectors.transaction_find_start(
        charge_point=charge_point,
        connector_id=connector_id,
        id_tag=id_tag,
        meter_start=meter_start,
        timestamp=timestamp,
    )
    if existing is not None:
        return existing
    return Transaction.objects.create(
        charge_point=charge_point,
        connector_id=connector_id,
        id_tag=id_tag,
        id_tag_status=id_tag_status,
        meter_start=meter_start,
        started_at=timestamp,
        start_received_at=received_at or timezone.now(),
        reservation_id=reservation_id,
        notes="" if timestamp is not None else "charger sent no readable start timestamp",
    )


def transaction_close_orphans(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    keep: Transaction | None = None,
    at: datetime | None = None,
) -> list[Transaction]:
    """Close transactions still open on a connector where a new one starts (its StopTransaction
    was lost): reason Other, meterStop the last energy register reading, else meterStart."""
    at = at or timezone.now()
    closed = []
    open_transactions = selectors.transaction_list_open(
        charge_point=charge_point, connector_id=connector_id
    ).select_for_update()
    for transaction in open_transactions:
        if keep is not None and transaction.pk == keep.pk:
            continue
        last_wh = selectors.transaction_last_energy_wh(transaction=transaction)
        transaction.meter_stop = last_wh if last_wh is not None else transaction.meter_start
        transaction.stop_reason = ORPHAN_STOP_REASON
        transaction.stop_received_at = at
        transaction.closed_as_orphan = True
        transaction.notes = _append_note(
            transaction.notes, "closed as orphan: a new transaction started on its connector"
        )
        transaction.save(
            update_fields=[
                "meter_stop",
                "stop_reason",
                "stop_received_at",
                "closed_as_orphan",
                "notes",
            ]
        )
        logger.warning("%s: closed orphaned transaction %s", charge_point.id, transaction.id)
        closed.append(transaction)
    return closed


def transaction_stop(
    *,
    charge_point: ChargePoint,
    transaction_id: int,
    meter_stop: int,
    timestamp: datetime | None,
    reason: str = DEFAULT_STOP_REASON,
    id_tag: str = "",
    transaction_data: list[dict[str, Any]] | None = None,
    source_message: Message | None = None,
    received_at: datetime | None = None,
) -> Transaction | None:
    """Stop a transaction. Never raises for the charger's inconsistencies: an unknown or already
    stopped transactionId is recorded as an anomaly and never stops anything a second time."""
    received_at = received_at or timezone.now()
    transaction = (
        Transaction.objects.select_for_update()
        .filter(charge_point=charge_point, id=transaction_id)
        .first()
    )
    if transaction is None:
        note = f"StopTransaction for unknown transactionId {transaction_id}"
        logger.warning("%s: %s", charge_point.id, note)
        if source_message is not None:
            source_message.note = _append_note(source_message.note, note)
            source_message.save(update_fields=["note"])
        if transaction_data:
            meter_values_record(
                charge_point=charge_point,
                connector_id=0,
                meter_values=transaction_data,
                transaction_id=transaction_id,
                source_message=source_message,
                received_at=received_at,
            )
        return None

    if not transaction.is_open and not transaction.closed_as_orphan:
        same = transaction.meter_stop == meter_stop and transaction.stopped_at == timestamp
        if not same:
            transaction.notes = _append_note(
                transaction.notes,
                f"second StopTransaction ignored (meterStop {meter_stop}, reason {reason})",
            )
            transaction.save(update_fields=["notes"])
        logger.warning("%s: transaction %s already stopped", charge_point.id, transaction.id)
        return transaction

    if transaction.closed_as_orphan:
        # Our orphan close was a guess; the charger's own (late) StopTransaction is the truth.
        transaction.closed_as_orphan = False
        transaction.notes = _append_note(
            transaction.notes, "late StopTransaction replaced the orphan close"
        )
    transaction.meter_stop = meter_stop
    transaction.stopped_at = timestamp
    transaction.stop_received_at = received_at
    transaction.stop_reason = reason or DEFAULT_STOP_REASON
    transaction.stop_id_tag = id_tag
    if timestamp is None:
        transaction.notes = _append_note(
            transaction.notes, "charger sent no readable stop timestamp"
        )
    transaction.save(
        update_fields=[
            "meter_stop",
            "stopped_at",
            "stop_received_at",
            "stop_reason",
            "stop_id_tag",
            "closed_as_orphan",
            "notes",
        ]
    )
    if transaction_data:
        meter_values_record(
            charge_point=charge_point,
            connector_id=transaction.connector_id,
            meter_values=transaction_data,
            transaction_id=transaction.id,
            source_message=source_message,
            received_at=received_at,
        )
    return transaction


# --- meter values ---------------------------------------------------------------------------


def _numeric(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) >= _NUMERIC_LIMIT:
        return None
    return number.quantize(_NUMERIC_STEP)


def meter_values_record(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    meter_values: Iterable[dict[str, Any]],
    transaction_id: int | None = None,
    source_message: Message | None = None,
    received_at: datetime | None = None,
) -> list[MeterValue]:
    """Store one row per sampledValue (OCPP 1.6 §4.7), with the spec's defaults applied.

    Linked to the transaction when `transaction_id` names one of this charge point's, else only
    to the connector (keeping the reported id). Recording the same message twice is a no-op.
    """
    if source_message is not None and source_message.pk is not None:
        existing = list(MeterValue.objects.filter(source_message=source_message).order_by("id"))
        if existing:
            return existing
    received_at = received_at or timezone.now()
    transaction = None
    if transaction_id is not None:
        transaction = selectors.transaction_get(
            charge_point=charge_point, transaction_id=transaction_id
        )
    rows = []
    for meter_value in meter_values:
        timestamp = parse_charger_time(meter_value.get("timestamp"))
        for sampled in meter_value.get("sampledValue") or []:
            value = clean_text(str(sampled.get("value", "")))
            fields = {
                name: sampled.get(name) or default
                for name, default in SAMPLED_VALUE_DEFAULTS.items()
            }
            rows.append(
                MeterValue(
                    charge_point=charge_point,
                    transaction=transaction,
                    reported_transaction_id=transaction_id if transaction is None else None,
                    connector_id=connector_id,
                    timestamp=timestamp,
                    received_at=received_at,
                    value=value,
                    numeric_value=_numeric(value),
                    phase=sampled.get("phase") or "",
                    source_message=source_message,
                    **fields,
                )
            )
    meter_jumps.meter_values_flag_new(transaction=transaction, rows=rows)
    return MeterValue.objects.bulk_create(rows)


# --- messages and outbound calls ------------------------------------------------------------


def message_record(
    *,
    charge_point: ChargePoint,
    direction: Direction | str,
    message_type: int | None,
    unique_id: str = "",
    action: str = "",
    payload: Any = None,
    raw: str = "",
    error_code: str = "",
    error_description: str = "",
    error_details: Any = None,
    answer_to: Message | None = None,
    frame_id: str | None = None,
    connection_id: str = "",
    note: str = "",
    received_at: datetime | None = None,
) -> Message:
    """Store one OCPP-J frame. Whatever a charger sent, the row can be written."""
    return Message.objects.create(
        charge_point=charge_point,
        direction=direction,
        message_type=message_type if message_type in (2, 3, 4) else None,
        unique_id=clean_text(unique_id)[:64],
        action=clean_text(action)[:64],
        payload=clean_json(payload),
        raw=clean_text(raw),
        error_code=clean_text(error_code)[:64],
        error_description=clean_text(error_description),
        error_details=clean_json(error_details),
        answer_to=answer_to,
        frame_id=frame_id,
        connection_id=clean_text(connection_id)[:64],
        note=note,
        received_at=received_at,
    )


def outbound_call_create(
    *,
    charge_point: ChargePoint,
    action: str,
    payload: dict[str, Any],
    callback: str = "",
    delay: float = 0.0,
    timeout: float | None = None,
    requested_by: str = "",
    connection_id: str = "",
    source_message: Message | None = None,
    status: OutboundCallStatus | str = OutboundCallStatus.QUEUED,
    error_description: str = "",
    task_id: str = "",
) -> OutboundCall:
    """Record a CALL to send to a charge point; the caller hands it to the gateway."""
    final = status not in PENDING_CALL_STATUSES
    return OutboundCall.objects.create(
        status=status,
        error_description=error_description,
        task_id=task_id,
        answered_at=timezone.now() if final else None,
        charge_point=charge_point,
        unique_id=str(uuid.uuid4()),
        action=action,
        payload=payload,
        callback=callback,
        delay=delay,
        timeout=conf.get("OCPP_CALL_TIMEOUT") if timeout is None else timeout,
        requested_by=requested_by[:255],
        connection_id=connection_id or charge_point.connection_id,
        source_message=source_message,
    )


def outbound_call_mark_sent(
    *, call: OutboundCall, message: Message, at: datetime | None = None
) -> OutboundCall:
    """The call's frame was handed to the gateway for sending."""
    call.status = OutboundCallStatus.SENT
    call.message = message
    call.sent_at = at or timezone.now()
    call.save(update_fields=["status", "message", "sent_at"])
    return call


def outbound_call_complete(
    *,
    call: OutboundCall,
    status: OutboundCallStatus | str,
    response: dict[str, Any] | None = None,
    error_code: str = "",
    error_description: str = "",
    at: datetime | None = None,
) -> OutboundCall:
    """Record how a call ended (answered, call_error, timeout, offline) and run its callback.

    A call that already ended is left alone: its first outcome stands.
    """
    status = OutboundCallStatus(status)
    if status not in (
        OutboundCallStatus.ANSWERED,
        OutboundCallStatus.CALL_ERROR,
        OutboundCallStatus.TIMEOUT,
        OutboundCallStatus.OFFLINE,
    ):
        raise ValueError(f"not a final status: {status}")
    if not call.is_pending:
        return call
    call.status = status
    call.response = clean_json(response)
    call.error_code = clean_text(error_code)[:64]
    call.error_description = clean_text(error_description)
    call.answered_at = at or timezone.now()
    call.save(
        update_fields=["status", "response", "error_code", "error_description", "answered_at"]
    )
    _run_callback(call)
    if status == OutboundCallStatus.ANSWERED:
        _apply_answer(call)
    _redact_secret(call)
    outcomes.store_task_result(call)
    unique_id = call.unique_id
    db_transaction.on_commit(lambda: outcomes.wake(unique_id, status.value))
    return call


REDACTED = "<redacted>"


def _redact_secret(call: OutboundCall) -> None:
    """A ChangeConfiguration AuthorizationKey keeps its key in clear only until it ends: then
    the recorded call and its CALL frame show `<redacted>` instead (charging.admission)."""
    from .admission import AUTHORIZATION_KEY

    payload = call.payload if isinstance(call.payload, dict) else {}
    if call.action != "ChangeConfiguration" or (
        str(payload.get("key", "")).lower() != AUTHORIZATION_KEY.lower()
    ):
        return
    redacted = {**payload, "value": REDACTED}
    call.payload = redacted
    call.save(update_fields=["payload"])
    if call.message_id is not None:
        Message.objects.filter(pk=call.message_id).update(
            payload=redacted, raw=Call(call.unique_id, call.action, redacted).to_json()
        )


def _run_callback(call: OutboundCall) -> None:
    if not call.callback:
        return
    try:
        # A savepoint, so a failing callback leaves the call's own outcome recorded.
        with db_transaction.atomic():
            import_string(call.callback)(call=call)
    except (OperationalError, InterfaceError):
        raise  # the whole event is retried
    except Exception:
        logger.exception("callback %s of %s %s failed", call.callback, call.action, call.unique_id)


# --- commands: outbound calls sent by the `levity.send_call` task ----------------------------


def outbound_call_start_send(*, call_id: int) -> OutboundCall | None:
    """The queued call `call_id`, with its CALL frame recorded, ready to hand to the gateway;
    None when there is nothing to send (it ended, or a previous attempt already sent it)."""
    with db_transaction.atomic():
        call = OutboundCall.objects.filter(pk=call_id).first()
        if call is None:
            return None
        charge_point = charge_point_lock(charge_point_id=call.charge_point_id)
        call = OutboundCall.objects.select_related("message").get(pk=call_id)
        if call.status != OutboundCallStatus.QUEUED:
            return None
        if call.message is None:
            call.message = message_record(
                charge_point=charge_point,
                direction=Direction.OUT,
                message_type=2,
                unique_id=call.unique_id,
                action=call.action,
                payload=call.payload,
                raw=call_frame_text(call),
                connection_id=charge_point.connection_id,
            )
        # The gateway queues it on the connection it holds now: that connection's close (or
        # a newer connection) ends the call `offline`.
        call.connection_id = charge_point.connection_id
        call.save(update_fields=["message", "connection_id"])
        return call


def call_frame_text(call: OutboundCall) -> str:
    return Call(call.unique_id, call.action, call.payload).to_json()


def outbound_call_published(*, call_id: int, routed: bool) -> OutboundCall:
    """The CALL was handed to the broker: `routed` to the gateway holding the charge point
    (the call is `sent`, unless its answer already came), or returned unroutable (`offline`)."""
    with db_transaction.atomic():
        charge_point_id = OutboundCall.objects.values_list("charge_point_id", flat=True).get(
            pk=call_id
        )
        charge_point_lock(charge_point_id=charge_point_id)
        call = OutboundCall.objects.get(pk=call_id)
        if not routed:
            return outbound_call_complete(
                call=call,
                status=OutboundCallStatus.OFFLINE,
                error_description="the charge point is not connected to any gateway",
            )
        # A fast charger's answer can be recorded before the broker confirms the publish: the
        # call keeps its outcome, and still gets the time it was handed over.
        if call.sent_at is None:
            call.sent_at = timezone.now()
            call.save(update_fields=["sent_at"])
        if call.status == OutboundCallStatus.QUEUED:
            call.status = OutboundCallStatus.SENT
            call.save(update_fields=["status"])
            outcomes.store_task_result(call)
        return call


def outbound_call_expire_stale(
    *, now: datetime | None = None, charge_point: ChargePoint | None = None
) -> int:
    """End as `timeout` every call still queued or sent well after created + delay + timeout +
    OCPP_CALL_GRACE, so none stays pending forever. Returns how many ended.

    A call may legitimately wait behind others in its charge point's FIFO (at most one
    outstanding, OCPP-J 1.6 §4.1.1); its late answer is still recorded, as a late answer.
    """
    now = now or timezone.now()
    grace = float(conf.get("OCPP_CALL_GRACE"))
    candidates = OutboundCall.objects.filter(status__in=PENDING_CALL_STATUSES)
    if charge_point is not None:
        candidates = candidates.filter(charge_point=charge_point)
    # Coarse filter in SQL (no call waits less than its grace), exact check per row.
    candidates = candidates.filter(created_at__lt=now - timedelta(seconds=grace))
    ended = 0
    for call_id, charge_point_id in candidates.values_list("id", "charge_point_id"):
        with db_transaction.atomic():
            charge_point_lock(charge_point_id=charge_point_id)
            call = OutboundCall.objects.get(pk=call_id)
            if selectors.outbound_call_is_stale(call=call, now=now):
                outbound_call_complete(
                    call=call,
                    status=OutboundCallStatus.TIMEOUT,
                    error_description="no outcome long after the call's timeout: given up",
                    at=now,
                )
                ended += 1
    return ended


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
    at: datetime | None = None,
) -> Connector:
    connector, _ = Connector.objects.get_or_create(
        charge_point=charge_point, connector_id=connector_id
    )
    connector.composite_schedule = clean_json(schedule)
    connector.composite_schedule_at = at or timezone.now()
    connector.save(update_fields=["composite_schedule", "composite_schedule_at"])
    return connector


def charge_point_local_list_version_set(
    *, charge_point: ChargePoint, version: int, at: datetime | None = None
) -> ChargePoint:
    charge_point.local_list_version = version
    charge_point.local_list_version_at = at or timezone.now()
    charge_point.save(update_fields=["local_list_version", "local_list_version_at"])
    return charge_point


def _answered_get_configuration(call: OutboundCall, response: dict[str, Any]) -> None:
    configuration_keys_store(
        charge_point=call.charge_point,
        keys=response.get("configurationKey") or [],
        unknown=response.get("unknownKey") or [],
        complete=not call.payload.get("key"),
        at=call.answered_at,
    )


def _answered_change_configuration(call: OutboundCall, response: dict[str, Any]) -> None:
    from . import admission

    if str(call.payload.get("key", "")).lower() == admission.AUTHORIZATION_KEY.lower():
        # Only a charger that took the new key at once uses it from its next handshake on.
        if response.get("status") == "Accepted":
            admission.authorization_key_set(
                charge_point=call.charge_point, key=str(call.payload["value"])
            )
        return  # write-only: never kept as a configuration value
    # RebootRequired: the charger took the value; it applies after a reboot (OCPP 1.6 §5.3).
    if response.get("status") in ("Accepted", "RebootRequired"):
        configuration_key_set(
            charge_point=call.charge_point,
            key=call.payload["key"],
            value=call.payload["value"],
            at=call.answered_at,
        )


def _answered_change_availability(call: OutboundCall, response: dict[str, Any]) -> None:
    status = response.get("status")
    if status in ("Accepted", "Scheduled"):
        connector_availability_set(
            charge_point=call.charge_point,
            connector_id=int(call.payload["connectorId"]),
            availability=call.payload["type"],
            status=status,
            at=call.answered_at,
        )


def _answered_get_local_list_version(call: OutboundCall, response: dict[str, Any]) -> None:
    charge_point_local_list_version_set(
        charge_point=call.charge_point, version=int(response["listVersion"]), at=call.answered_at
    )


def _answered_send_local_list(call: OutboundCall, response: dict[str, Any]) -> None:
    if response.get("status") == "Accepted":
        charge_point_local_list_version_set(
            charge_point=call.charge_point,
            version=int(call.payload["listVersion"]),
            at=call.answered_at,
        )


def _answered_get_composite_schedule(call: OutboundCall, response: dict[str, Any]) -> None:
    if response.get("status") == "Accepted":
        connector_composite_schedule_set(
            charge_point=call.charge_point,
            connector_id=int(call.payload["connectorId"]),
            schedule=response,
            at=call.answered_at,
        )


ANSWER_HANDLERS: dict[str, Callable[[OutboundCall, dict[str, Any]], None]] = {
    "ChangeAvailability": _answered_change_availability,
    "ChangeConfiguration": _answered_change_configuration,
    "GetCompositeSchedule": _answered_get_composite_schedule,
    "GetConfiguration": _answered_get_configuration,
    "GetLocalListVersion": _answered_get_local_list_version,
    "SendLocalList": _answered_send_local_list,
}


def _apply_answer(call: OutboundCall) -> None:
    handler = ANSWER_HANDLERS.get(call.action)
    if handler is None or not isinstance(call.response, dict):
        return
    try:
        # A savepoint: a failing handler leaves the call's outcome recorded.
        with db_transaction.atomic():
            handler(call, call.response)
    except (OperationalError, InterfaceError):
        raise  # the whole event is retried
    except Exception:
        logger.exception("storing the answer to %s %s failed", call.action, call.unique_id)
