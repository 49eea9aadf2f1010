"""Gateway presence: the charge points of a gateway whose lease expired go offline.

A gateway renews `levity:gateway:<id>` in Redis every TTL / 3 (gateway/presence.py). One killed
with `kill -9`, or frozen, sends no `disconnect`s; without this its charge points would stay
`connected` until they reconnect elsewhere. Run periodically (`levity.reap_dead_gateways`).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from .. import conf, events
from ..coordination import redis_client, redis_failed
from ..models import (
    PENDING_CALL_STATUSES,
    ChargePoint,
    ConnectionEvent,
    OutboundCall,
    OutboundCallStatus,
)
from ..protocol import envelope as wire
from .outbound_calls import outbound_call_complete

logger = logging.getLogger(__name__)

_FALLBACK = "not checking gateway presence"
REAP_BATCH = 500  # charge points taken offline per database transaction


def gateway_list_dead(*, gateway_ids: list[str], ttl: float) -> set[str]:
    """The gateways among `gateway_ids` without a presence lease; none when Redis cannot tell
    (unreachable, or restarted less than `ttl` ago: it has lost every lease, and the living
    gateways renew theirs within TTL / 3)."""
    client = redis_client()
    if client is None or not gateway_ids:
        return set()
    try:
        if float(client.info("server")["uptime_in_seconds"]) < ttl:
            return set()
        with client.pipeline(transaction=False) as pipe:
            for gateway_id in gateway_ids:
                pipe.exists(wire.gateway_lease_key(gateway_id))
            alive = pipe.execute()
    except Exception as error:  # noqa: BLE001 - Redis is coordination, never fatal
        redis_failed(error, fallback=_FALLBACK)
        return set()
    return {gateway_id for gateway_id, lease in zip(gateway_ids, alive, strict=True) if not lease}


def charge_point_reap_dead_gateways(*, now: datetime | None = None) -> int:
    """Take offline every connected charge point whose gateway's lease expired, ending the
    calls pending on its connection `offline` (as its `disconnect` would have), with a
    disconnect event saying why. Returns how many.

    In batches, each row locked: a charge point whose event is being processed right now is
    skipped this time (it is most likely reconnecting) and checked again next time. Off when
    OCPP_GATEWAY_PRESENCE_TTL is 0 or there is no Redis.
    """
    ttl = float(conf.get("OCPP_GATEWAY_PRESENCE_TTL"))
    if ttl <= 0:
        return 0
    now = now or timezone.now()
    # Connected longer than a TTL: its gateway has renewed the lease since (it takes the lease
    # before it accepts a charger), so a missing lease really means expired.
    candidates = ChargePoint.objects.filter(
        connected=True, last_connect_at__lt=now - timedelta(seconds=ttl)
    ).exclude(gateway_id="")
    dead = gateway_list_dead(
        gateway_ids=sorted(set(candidates.values_list("gateway_id", flat=True))), ttl=ttl
    )
    reaped: Counter[str] = Counter()
    while dead:
        with transaction.atomic():
            batch = list(
                candidates.filter(gateway_id__in=dead)
                .select_for_update(
                    skip_locked=connection.features.has_select_for_update_skip_locked
                )
                .order_by("pk")[:REAP_BATCH]
            )
            _take_offline(batch, at=now)
        reaped.update(charge_point.gateway_id for charge_point in batch)
        if len(batch) < REAP_BATCH:
            break
    for gateway_id, count in reaped.items():
        logger.warning(
            "gateway %s has no presence lease: %d charge point(s) taken offline", gateway_id, count
        )
    return sum(reaped.values())


def _take_offline(charge_points: list[ChargePoint], *, at: datetime) -> None:
    """What `charge_point_disconnected` does for each, in a few statements for all of them."""
    if not charge_points:
        return
    ConnectionEvent.objects.bulk_create(
        ConnectionEvent(
            charge_point=charge_point,
            kind=ConnectionEvent.Kind.DISCONNECT,
            gateway_id=charge_point.gateway_id,
            connection_id=charge_point.connection_id,
            reason=ConnectionEvent.PRESENCE_EXPIRED,
            at=at,
        )
        for charge_point in charge_points
    )
    ChargePoint.objects.filter(pk__in=[cp.pk for cp in charge_points]).update(
        connected=False, last_disconnect_at=at
    )
    gone = {"code": None, "reason": ConnectionEvent.PRESENCE_EXPIRED, "at": at}
    for cp in charge_points:
        events.emit(
            "charge_point.disconnected", charge_point=cp, connection_id=cp.connection_id, **gone
        )
    connection_of = {cp.pk: cp.connection_id for cp in charge_points}
    pending = (
        OutboundCall.objects.filter(
            charge_point__in=charge_points, status__in=PENDING_CALL_STATUSES
        )
        .select_for_update()
        .order_by("id")
    )
    for call in pending:
        if call.connection_id == connection_of[call.charge_point_id]:
            outbound_call_complete(call=call, status=OutboundCallStatus.OFFLINE, at=at)
