"""TC_049_CSMS Reservation of a Charge Point - Transaction (OCTT 1.6 §3.16): connector 0
reserves the charge point; the transaction on a connector carries the reservationId."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from charging.models import Reservation

from .harness import CONNECTOR


def test_tc_049_reservation_of_a_charge_point_transaction(play, operator, cp_id):
    async def case(cp):
        expiry = datetime.now(UTC) + timedelta(hours=1)
        reservation_id = await operator.reserve(cp, connector_id=0, expiry=expiry)  # 1-2
        await cp.status(CONNECTOR, "Reserved")  # steps 3-4
        transaction_id = await cp.charging(reservation_id=reservation_id)
        return reservation_id, transaction_id

    reservation_id, transaction_id = play(case)
    reservation = Reservation.objects.get(pk=reservation_id)
    assert (reservation.connector_id, reservation.status, reservation.transaction_id) == (
        0,
        "Used",
        transaction_id,
    )
