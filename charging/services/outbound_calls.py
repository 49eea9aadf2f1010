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

from .. import adapters, conf, events, outcomes, selectors
from ..models import (
    PENDING_CALL_STATUSES,
    ChargePoint,
    Direction,
    Message,
    OutboundCall,
    OutboundCallStatus,
)
from ..protocol import Call, MessageType
from ..protocol import envelope as wire
from .charge_points import charge_point_lock
from .messages import clean_json, clean_text, message_record
from .outbound_actions import Redact, outbound_call_spec

logger = logging.getLogger(__name__)


def outbound_call_create(
    *,
    charge_point: ChargePoint,
    action: str,
    payload: dict[str, Any],
    flow: str = "",
    delay: float = 0.0,
    timeout: float | None = None,
    requested_by: str = "",
    connection_id: str = "",
    source_message: Message | None = None,
    status: OutboundCallStatus | str = OutboundCallStatus.QUEUED,
    error_description: str = "",
    task_id: str = "",
) -> OutboundCall:
    """Record a CALL to send to a charge point; the caller hands it over
    (`outbound_call_hand_over`). `flow`: the registered flow it is sent for, when not its
    action's own (services.outbound_actions)."""
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
        flow=flow,
        delay=delay,
        timeout=conf.get("OCPP_CALL_TIMEOUT") if timeout is None else timeout,
        requested_by=requested_by[:255],
        connection_id=connection_id or charge_point.connection_id,
        source_message=source_message,
    )
    if final:  # refused before it was sent (its charge point offline, say)
        events.emit(events.command_event(call.status), call=call)
    return call


def outbound_call_hand_over(
    *, call: OutboundCall, connection_id: str, sent: bool = False
) -> wire.OutboundCall:
    """Record the CALL frame of `call` (once) as handed to connection `connection_id`, and
    return it as the gateway takes it. `sent`: it goes out with the reply to an inbound event,
    so it is `sent` now; a command is `sent` once the broker routed it
    (`outbound_call_published`)."""
    fields = ["message", "connection_id"]
    if call.message is None:
        call.message = message_record(
            charge_point=call.charge_point,
            direction=Direction.OUT,
            message_type=MessageType.call,
            unique_id=call.unique_id,
            action=call.action,
            payload=call.payload,
            raw=_frame_text(call),
            connection_id=connection_id,
        )
    call.connection_id = connection_id
    if sent:
        call.status = OutboundCallStatus.SENT
        call.sent_at = timezone.now()
        fields += ["status", "sent_at"]
    call.save(update_fields=fields)
    return outbound_call_wire(call)


def outbound_call_wire(call: OutboundCall) -> wire.OutboundCall:
    """The handed-over `call` as the gateway queues it (docs/envelope.md)."""
    assert call.message is not None
    wired: wire.OutboundCall = {
        "unique_id": call.unique_id,
        "action": call.action,
        "text": call.message.raw,
        "delay": call.delay,
        "timeout": call.timeout,
    }
    if call.delay > 0 and outbound_call_spec(call).confirm is not None:
        wired["confirm"] = True
    return wired


def _frame_text(call: OutboundCall) -> str:
    return Call(call.unique_id, call.action, call.payload).to_json()


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
    """Record how a call ended (answered, call_error, timeout, offline, cancelled) and run what
    its action does then (services.outbound_actions: `on_end`, `on_answer`, `redact`).

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
    spec = outbound_call_spec(call)
    if spec.on_end is not None:
        _run_hook(call, "on_end", spec.on_end, call=call)
    answered = status == OutboundCallStatus.ANSWERED and isinstance(call.response, dict)
    if spec.on_answer is not None and answered:
        _run_hook(call, "on_answer", spec.on_answer, call=call, response=call.response)
    if spec.redact is not None:
        _redact(call, spec.redact)
    adapters.outcome_changed(call)
    events.emit(events.command_event(status), call=call)
    unique_id = call.unique_id
    db_transaction.on_commit(lambda: outcomes.wake(unique_id, status.value))
    return call


def outbound_call_confirm(*, call: OutboundCall) -> bool:
    """The delayed `call` is due (a `call_due` event): True to send it now; False when it has
    ended meanwhile, or its flow's `confirm` says it is no longer wanted (it ends `cancelled`)."""
    if not call.is_pending:
        return False
    confirm = outbound_call_spec(call).confirm
    if confirm is None:
        return True
    reason = confirm(call=call)
    if not reason:
        return True
    outbound_call_complete(
        call=call, status=OutboundCallStatus.CANCELLED, error_description=str(reason)
    )
    return False


def _redact(call: OutboundCall, redact: Redact) -> None:
    """What is secret in an ended call's payload goes, from the call and its CALL frame."""
    redacted = redact(call.payload) if isinstance(call.payload, dict) else None
    if redacted is None:
        return
    call.payload = redacted
    call.save(update_fields=["payload"])
    if call.message_id is not None:
        Message.objects.filter(pk=call.message_id).update(payload=redacted, raw=_frame_text(call))


def _run_hook(ended: OutboundCall, name: str, hook: Callable[..., object], **kwargs: Any) -> None:
    try:
        # A savepoint, so a failing hook leaves the call's own outcome recorded.
        with db_transaction.atomic():
            hook(**kwargs)
    except (OperationalError, InterfaceError):
        raise  # the whole event is retried
    except Exception:
        logger.exception("%s of %s %s failed", name, ended.action, ended.unique_id)


# --- commands: outbound calls sent by the `levity.send_call` task ----------------------------


def outbound_call_start_send(*, call_id: int) -> wire.CallRequest | None:
    """The queued call `call_id`, handed over to the charge point's current connection, as the
    request to the gateway holding it; None when there is nothing to send (it ended, or a previous attempt
    already sent it)."""
    with db_transaction.atomic():
        charge_point_id = (
            OutboundCall.objects.filter(pk=call_id)
            .values_list("charge_point_id", flat=True)
            .first()
        )
        if charge_point_id is None:
            return None
        charge_point = charge_point_lock(charge_point_id=charge_point_id)
        call = OutboundCall.objects.select_related("message").get(pk=call_id)
        if call.status != OutboundCallStatus.QUEUED:
            return None
        call.charge_point = charge_point
        # The gateway queues it on the connection it holds now: that connection's close (or
        # a newer connection) ends the call `offline`.
        wired = outbound_call_hand_over(call=call, connection_id=charge_point.connection_id)
        return wire.call_request(charge_point.id, wired)


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
        fields = []
        if call.sent_at is None:
            call.sent_at = timezone.now()
            fields.append("sent_at")
        sent = call.status == OutboundCallStatus.QUEUED
        if sent:
            call.status = OutboundCallStatus.SENT
            fields.append("status")
        if fields:
            call.save(update_fields=fields)
        if sent:
            adapters.outcome_changed(call)
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
