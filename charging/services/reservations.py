"""Reservations (OCPP 1.6 §3.10, §5.13 ReserveNow, §5.2 CancelReservation): what our requests,
the charger's answers and its StartTransaction make of them."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ..clock import parse_charger_time
from ..models import ChargePoint, OutboundCall, Reservation, ReservationStatus, Transaction
from .messages import clean_text

logger = logging.getLogger(__name__)

_ALLOCATION_ATTEMPTS = 100  # reservation ids taken by ReserveNow calls sent with an id of their own


def reservation_create(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    id_tag: str,
    expiry_date: datetime,
    parent_id_tag: str = "",
) -> Reservation:
    """A new reservation, `Requested`; its primary key is the reservationId to send.

    An id already taken (by a ReserveNow sent with an id of its own, stored as it was answered)
    is skipped: the database sequence moves on with each attempt.
    """
    for _ in range(_ALLOCATION_ATTEMPTS):
        try:
            with transaction.atomic():
                return Reservation.objects.create(
                    charge_point=charge_point,
                    connector_id=connector_id,
                    id_tag=id_tag,
                    parent_id_tag=parent_id_tag,
                    expiry_date=expiry_date,
                )
        except IntegrityError:
            continue
    raise RuntimeError(f"no free reservationId after {_ALLOCATION_ATTEMPTS} attempts")


def reservation_answered(*, call: OutboundCall, response: dict[str, Any]) -> Reservation | None:
    """ReserveNow.conf: the reservation takes the charger's status. A ReserveNow sent with an id
    we did not allocate creates its reservation here; one for the same id replaces it, as on the
    charger (§5.13)."""
    payload = call.payload
    reservation_id = payload.get("reservationId")
    expiry = parse_charger_time(payload.get("expiryDate"))
    if not isinstance(reservation_id, int) or expiry is None:
        return None
    reservation = Reservation.objects.select_for_update().filter(pk=reservation_id).first()
    if reservation is None:
        reservation = Reservation(pk=reservation_id, charge_point=call.charge_point)
    elif reservation.charge_point_id != call.charge_point_id:
        logger.warning(
            "%s: ReserveNow %s answered, but reservation %s is %s's: not stored",
            call.charge_point_id,
            call.unique_id,
            reservation_id,
            reservation.charge_point_id,
        )
        return None
    status = response.get("status")
    reservation.connector_id = payload.get("connectorId", 0)
    reservation.id_tag = clean_text(payload.get("idTag", ""))[:20]
    reservation.parent_id_tag = clean_text(payload.get("parentIdTag") or "")[:20]
    reservation.expiry_date = expiry
    if status in ReservationStatus.values:
        reservation.status = status
    reservation.call = call
    reservation.updated_at = call.answered_at or timezone.now()
    reservation.save()
    return reservation


def reservation_cancel_answered(
    *, call: OutboundCall, response: dict[str, Any]
) -> Reservation | None:
    """CancelReservation.conf Accepted: the reservation is cancelled (Rejected: the charger
    knew no such reservation, and ours stays as it was)."""
    if response.get("status") != "Accepted":
        return None
    reservation = (
        Reservation.objects.select_for_update()
        .filter(pk=call.payload.get("reservationId"), charge_point=call.charge_point)
        .first()
    )
    if reservation is None:
        return None
    reservation.status = ReservationStatus.CANCELLED
    reservation.updated_at = call.answered_at or timezone.now()
    reservation.save(update_fields=["status", "updated_at"])
    return reservation


def reservation_use(
    *, charge_point: ChargePoint, reservation_id: int, transaction: Transaction
) -> Reservation | None:
    """A StartTransaction.req carried `reservationId`: the reservation is used by it (§4.8: it
    ends the reservation), whatever state we thought it in, unless it is another charger's."""
    reservation = (
        Reservation.objects.select_for_update()
        .filter(pk=reservation_id, charge_point=charge_point)
        .first()
    )
    if reservation is None:
        logger.info(
            "%s: StartTransaction for unknown reservation %s", charge_point.id, reservation_id
        )
        return None
    reservation.status = ReservationStatus.USED
    reservation.transaction = transaction
    reservation.updated_at = timezone.now()
    reservation.save(update_fields=["status", "transaction", "updated_at"])
    return reservation


def reservation_expire_due(*, now: datetime | None = None) -> int:
    """End as `Expired` the reservations still requested or accepted after their expiryDate
    (the charger ends them by itself then, §5.13); returns how many."""
    now = now or timezone.now()
    return Reservation.objects.filter(
        status__in=Reservation.ACTIVE_STATUSES, expiry_date__lt=now
    ).update(status=ReservationStatus.EXPIRED, updated_at=now)
