"""The automatic RemoteStartTransaction on Preparing: when it makes sense, and charge-start loops."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from .. import conf
from ..models import (
    PENDING_CALL_STATUSES,
    ChargePoint,
    Connector,
    OutboundCall,
    OutboundCallStatus,
    Transaction,
)
from .connectors import connector_remote_start_result

logger = logging.getLogger(__name__)

LOOP_WINDOW = timedelta(minutes=1)


def auto_remote_start_skip_reason(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    now: datetime | None = None,
    call: OutboundCall | None = None,
) -> str:
    """Why no automatic RemoteStartTransaction should go to this connector now ("": send it).

    Asked when the connector goes Preparing and again when the delayed `call` is due, since a
    charger may re-send Preparing around a session it starts itself (after a local Authorize, a
    re-plug, or a RemoteStart it accepted while charging): each needless start is a phantom
    transaction and the one before it closed as an orphan.
    """
    now = now or timezone.now()
    if not conf.get("OCPP_AUTO_REMOTE_START"):
        return "OCPP_AUTO_REMOTE_START is off"
    if not charge_point.approved:
        return "the charge point is not approved"  # no energy through us (charging.admission)
    status = (
        Connector.objects.filter(charge_point=charge_point, connector_id=connector_id)
        .values_list("status", flat=True)
        .first()
    )
    if status != "Preparing":
        return f"the connector is {status or 'unknown'} now, no longer Preparing"
    open_id = (
        Transaction.objects.filter(
            charge_point=charge_point, connector_id=connector_id, stop_received_at__isnull=True
        )
        .values_list("id", flat=True)
        .first()
    )
    if open_id is not None:
        return f"transaction {open_id} is open on it"
    grace = float(conf.get("OCPP_AUTO_REMOTE_START_AFTER_AUTHORIZE_GRACE"))
    authorized_at = charge_point.last_authorized_at
    if authorized_at is not None and now - authorized_at < timedelta(seconds=grace):
        seconds = (now - authorized_at).total_seconds()
        return f"an idTag was authorized {seconds:.0f} s ago: its driver is starting it"
    cooldown = timedelta(seconds=float(conf.get("OCPP_AUTO_REMOTE_START_COOLDOWN")))
    recent = (
        OutboundCall.objects.filter(charge_point=charge_point, action="RemoteStartTransaction")
        .filter(Q(payload__connectorId=connector_id) | ~Q(payload__has_key="connectorId"))
        .filter(
            Q(status__in=PENDING_CALL_STATUSES)
            | Q(
                status=OutboundCallStatus.ANSWERED,
                response__status="Accepted",
                answered_at__gte=now - cooldown,
            )
        )
    )
    if call is not None:
        recent = recent.exclude(pk=call.pk)
    other = recent.order_by("-id").values_list("unique_id", "status").first()
    if other is not None:
        unique_id, call_status = other
        what = "was accepted" if call_status == OutboundCallStatus.ANSWERED else "is pending"
        return f"RemoteStartTransaction {unique_id} {what}"
    return ""


def auto_remote_start_confirm(*, call: OutboundCall) -> str:
    """The automatic RemoteStartTransaction `call` is due: "" to send it, else why not."""
    connector_id = int(call.payload.get("connectorId", 0))
    reason = auto_remote_start_skip_reason(
        charge_point=call.charge_point, connector_id=connector_id, call=call
    )
    if reason:
        logger.info(
            "%s: automatic RemoteStartTransaction %s to connector %d cancelled: %s",
            call.charge_point_id,
            call.unique_id,
            connector_id,
            reason,
        )
    return reason


def auto_remote_start_ended(*, call: OutboundCall) -> None:
    """Record on the connector whether the charger accepted the automatic remote start."""
    if call.status == OutboundCallStatus.ANSWERED:
        outcome = str((call.response or {}).get("status", ""))
    else:
        outcome = call.status  # call_error, timeout, offline or cancelled
    logger.info("%s: RemoteStartTransaction %s: %s", call.charge_point_id, call.unique_id, outcome)
    connector_remote_start_result(
        charge_point=call.charge_point,
        connector_id=int(call.payload.get("connectorId", 0)),
        status=outcome,
        at=call.answered_at,
    )


def connector_transaction_loop_check(
    *, charge_point: ChargePoint, connector_id: int, at: datetime
) -> int:
    """After a transaction started: flag the connector when more than
    OCPP_TRANSACTION_LOOP_THRESHOLD started on it within a minute (one indexed count), whatever
    the cause; returns that count."""
    threshold = int(conf.get("OCPP_TRANSACTION_LOOP_THRESHOLD"))
    started = Transaction.objects.filter(
        charge_point=charge_point,
        connector_id=connector_id,
        start_received_at__gt=at - LOOP_WINDOW,
        start_received_at__lte=at,
    ).count()
    if threshold > 0 and started > threshold:
        logger.warning(
            "%s: connector %d started %d transactions within a minute: a charge-start loop?",
            charge_point.id,
            connector_id,
            started,
        )
        Connector.objects.update_or_create(
            charge_point=charge_point,
            connector_id=connector_id,
            defaults={"transaction_loop_at": at, "transaction_loop_count": started},
        )
    return started
