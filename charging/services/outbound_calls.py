"""Outbound calls: create, send, publish, complete, expire; answers that change our state."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import InterfaceError, OperationalError
from django.db import transaction as db_transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from .. import conf, events, outcomes, selectors
from ..models import (
    PENDING_CALL_STATUSES,
    ChargePoint,
    Direction,
    Message,
    OutboundCall,
    OutboundCallStatus,
)
from ..protocol import Call
from .charge_points import (
    charge_point_local_list_version_set,
    charge_point_lock,
    configuration_key_set,
    configuration_keys_store,
)
from .charging_profiles import charging_profile_answered, charging_profiles_clear_answered
from .connectors import connector_availability_set, connector_composite_schedule_set
from .installed_certificates import (
    installed_certificate_answered,
    installed_certificate_deleted,
    installed_certificates_listed,
)
from .jobs import job_answered
from .messages import clean_json, clean_text, message_record
from .reservations import reservation_answered, reservation_cancel_answered

logger = logging.getLogger(__name__)


def outbound_call_create(
    *,
    charge_point: ChargePoint,
    action: str,
    payload: dict[str, Any],
    callback: str = "",
    confirm: str = "",
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
    call = OutboundCall.objects.create(
        status=status,
        error_description=error_description,
        task_id=task_id,
        answered_at=timezone.now() if final else None,
        charge_point=charge_point,
        unique_id=str(uuid.uuid4()),
        action=action,
        payload=payload,
        callback=callback,
        confirm=confirm,
        delay=delay,
        timeout=conf.get("OCPP_CALL_TIMEOUT") if timeout is None else timeout,
        requested_by=requested_by[:255],
        connection_id=connection_id or charge_point.connection_id,
        source_message=source_message,
    )
    if final:  # refused before it was sent (its charge point offline, say)
        events.emit(events.command_event(call.status), call=call)
    return call


def outbound_call_mark_sent(
    *, call: OutboundCall, message: Message, at: datetime | None = None
) -> OutboundCall:
    """The call's frame was handed to the gateway for sending."""
    call.status = OutboundCallStatus.SENT
    call.message = message
    call.sent_at = at or timezone.now()
    call.save(update_fields=["status", "message", "sent_at"])
    return call


# Outcomes decided without the charger, which its answer replaces when it comes after all.
ANSWER_REPLACES = frozenset({OutboundCallStatus.TIMEOUT, OutboundCallStatus.OFFLINE})


def outbound_call_complete(
    *,
    call: OutboundCall,
    status: OutboundCallStatus | str,
    response: dict[str, Any] | None = None,
    error_code: str = "",
    error_description: str = "",
    at: datetime | None = None,
    late_answer: bool = False,
) -> OutboundCall:
    """Record how a call ended (answered, call_error, timeout, offline, cancelled) and run its
    callback.

    A call that already ended is left alone: its first outcome stands, except that the
    charger's answer (`late_answer`) takes the place of a `timeout` or `offline` that
    housekeeping or a closed connection decided while the answer was on its way.
    """
    status = OutboundCallStatus(status)
    if status not in (
        OutboundCallStatus.ANSWERED,
        OutboundCallStatus.CALL_ERROR,
        OutboundCallStatus.TIMEOUT,
        OutboundCallStatus.OFFLINE,
        OutboundCallStatus.CANCELLED,
    ):
        raise ValueError(f"not a final status: {status}")
    if not call.is_pending and not (late_answer and call.status in ANSWER_REPLACES):
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
    events.emit(events.command_event(status), call=call)
    unique_id = call.unique_id
    db_transaction.on_commit(lambda: outcomes.wake(unique_id, status.value))
    return call


def outbound_call_confirm(*, call: OutboundCall) -> bool:
    """The delayed `call` is due (a `call_due` event): True to send it now; False when it has
    ended meanwhile, or its `confirm` hook says it is no longer wanted (it ends `cancelled`)."""
    if not call.is_pending:
        return False
    if not call.confirm:
        return True
    reason = import_string(call.confirm)(call=call)
    if not reason:
        return True
    outbound_call_complete(
        call=call, status=OutboundCallStatus.CANCELLED, error_description=str(reason)
    )
    return False


REDACTED = "<redacted>"


def _redact_secret(call: OutboundCall) -> None:
    """A ChangeConfiguration AuthorizationKey keeps its key in clear only until it ends: then
    the recorded call and its CALL frame show `<redacted>` instead (charging.admission)."""
    from ..admission import AUTHORIZATION_KEY, authorization_key_hold

    payload = call.payload if isinstance(call.payload, dict) else {}
    if call.action != "ChangeConfiguration" or (
        str(payload.get("key", "")).lower() != AUTHORIZATION_KEY.lower()
    ):
        return
    key = str(payload.get("value", ""))
    if call.status in ANSWER_REPLACES and call.message_id is not None and key != REDACTED:
        # Handed over, never answered: the charger may hold the new key (or answer later).
        authorization_key_hold(charge_point=call.charge_point, key=key)
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


def _answered_get_configuration(call: OutboundCall, response: dict[str, Any]) -> None:
    configuration_keys_store(
        charge_point=call.charge_point,
        keys=response.get("configurationKey") or [],
        unknown=response.get("unknownKey") or [],
        complete=not call.payload.get("key"),
        at=call.answered_at,
    )


def _answered_change_configuration(call: OutboundCall, response: dict[str, Any]) -> None:
    from .. import admission

    if str(call.payload.get("key", "")).lower() == admission.AUTHORIZATION_KEY.lower():
        # Only a charger that took the new key at once uses it from its next handshake on.
        key = str(call.payload["value"])
        admission.authorization_key_change_answered(
            charge_point=call.charge_point,
            key=None if key == REDACTED else key,
            accepted=response.get("status") == "Accepted",
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
            request=call.payload,
            at=call.answered_at,
        )


def _by_keyword(
    handler: Callable[..., object],
) -> Callable[[OutboundCall, dict[str, Any]], None]:
    """An answer handler from a service taking `call=` and `response=`."""

    def handle(call: OutboundCall, response: dict[str, Any]) -> None:
        handler(call=call, response=response)

    return handle


ANSWER_HANDLERS: dict[str, Callable[[OutboundCall, dict[str, Any]], None]] = {
    "CancelReservation": _by_keyword(reservation_cancel_answered),
    "ChangeAvailability": _answered_change_availability,
    "ChangeConfiguration": _answered_change_configuration,
    "ClearChargingProfile": _by_keyword(charging_profiles_clear_answered),
    "DeleteCertificate": _by_keyword(installed_certificate_deleted),
    "GetCompositeSchedule": _answered_get_composite_schedule,
    "GetConfiguration": _answered_get_configuration,
    "GetDiagnostics": _by_keyword(job_answered),
    "GetInstalledCertificateIds": _by_keyword(installed_certificates_listed),
    "GetLocalListVersion": _answered_get_local_list_version,
    "GetLog": _by_keyword(job_answered),
    "InstallCertificate": _by_keyword(installed_certificate_answered),
    "RemoteStartTransaction": _by_keyword(charging_profile_answered),
    "ReserveNow": _by_keyword(reservation_answered),
    "SendLocalList": _answered_send_local_list,
    "SetChargingProfile": _by_keyword(charging_profile_answered),
    "SignedUpdateFirmware": _by_keyword(job_answered),
    "UpdateFirmware": _by_keyword(job_answered),
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
