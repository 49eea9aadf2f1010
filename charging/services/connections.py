"""Websocket connects and disconnects of a charge point, and the calls they end."""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from .. import events, selectors
from ..models import ChargePoint, ConnectionEvent, OutboundCall, OutboundCallStatus
from .messages import clean_text
from .outbound_calls import outbound_call_complete

logger = logging.getLogger(__name__)


def charge_point_connected(
    *,
    charge_point: ChargePoint,
    connection_id: str,
    gateway_id: str = "",
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
    previous = (charge_point.connection_id, charge_point.gateway_id)
    charge_point.connected = True
    charge_point.connection_id = event.connection_id
    charge_point.gateway_id = event.gateway_id
    charge_point.last_connect_at = at
    charge_point.save(update_fields=["connected", "connection_id", "gateway_id", "last_connect_at"])
    events.emit(
        "charge_point.connected",
        charge_point=charge_point,
        connection_id=event.connection_id,
        at=at,
    )
    # A CALL handed to an older connection can no longer be answered, even when that
    # connection's gateway died without reporting its disconnect. But the connection this one
    # replaces on the same gateway is not lost: the gateway reports its close after the frames
    # it read on it, so a charger that answered and reconnected at once (a Reset, OCTT TC_013)
    # has its answer processed, and that close ends what is still pending there
    # (charge_point_disconnected).
    older = OutboundCall.objects.filter(
        charge_point=charge_point, status=OutboundCallStatus.SENT
    ).exclude(connection_id=event.connection_id)
    previous_connection, previous_gateway = previous
    if previous_connection and event.gateway_id and previous_gateway == event.gateway_id:
        older = older.exclude(connection_id=previous_connection)
    for call in older.select_for_update():
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
        events.emit(
            "charge_point.disconnected",
            charge_point=charge_point,
            connection_id=event.connection_id,
            code=code,
            reason=event.reason,
            at=at,
        )
    for call in selectors.outbound_call_list_pending(
        charge_point=charge_point, connection_id=event.connection_id
    ).select_for_update():
        outbound_call_complete(call=call, status=OutboundCallStatus.OFFLINE)
    return event
