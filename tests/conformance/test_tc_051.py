"""TC_051_CSMS Cancel Reservation (OCTT 1.6 §3.16): CancelReservation names the reservation
made, and once the charge point accepts it the reservation is cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from charging.models import Reservation

from .harness import CONNECTOR


def test_tc_051_cancel_reservation(play, operator, cp_id):
    async def case(cp):
        expiry = datetime.now(UTC) + timedelta(hours=1)
        reservation_id = await operator.reserve(cp, expiry=expiry)  # steps 1-2, connector ≠ 0
        await cp.status(CONNECTOR, "Reserved")  # steps 3-4
        answer = await operator.command(
            cp, "CancelReservation", {"reservationId": reservation_id}
        )  # steps 5-6
        assert answer == {"status": "Accepted"}
        await cp.status(CONNECTOR, "Available")  # steps 7-8
        return reservation_id

    assert Reservation.objects.get(pk=play(case)).status == "Cancelled"
