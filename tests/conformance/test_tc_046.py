"""TC_046_CSMS Reservation of a Connector - Transaction (OCTT 1.6 §3.16): the reserved
connector's transaction carries the reservationId, which uses the reservation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from charging.models import Reservation, Transaction

from .harness import CONNECTOR, VALID_ID_TAG


def test_tc_046_reservation_of_a_connector_transaction(play, operator, cp_id):
    async def case(cp):
        expiry = datetime.now(UTC) + timedelta(hours=1)
        reservation_id = await operator.reserve(cp, expiry=expiry)  # steps 1-2
        await cp.status(CONNECTOR, "Reserved")  # steps 3-4
        transaction_id = await cp.charging(reservation_id=reservation_id)  # step 5
        return reservation_id, transaction_id

    reservation_id, transaction_id = play(case)
    reservation = Reservation.objects.get(pk=reservation_id)
    assert (reservation.charge_point_id, reservation.connector_id, reservation.id_tag) == (
        cp_id,
        CONNECTOR,
        VALID_ID_TAG,
    )
    assert reservation.status == "Used"
    assert reservation.transaction == Transaction.objects.get(pk=transaction_id)
    assert reservation.transaction.reservation_id == reservation_id
