"""TC_052_CSMS Cancel Reservation - Rejected (OCTT 1.6 §3.16): cancelling a reservation the
charge point does not know is Rejected, and ours stays as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from charging.models import Reservation

from .harness import CONNECTOR


def test_tc_052_cancel_reservation_rejected(play, operator, cp_id):
    async def case(cp):
        expiry = datetime.now(UTC) + timedelta(hours=1)
        reservation_id = await operator.reserve(cp, expiry=expiry)  # steps 1-2
        await cp.status(CONNECTOR, "Reserved")  # steps 3-4
        unknown = reservation_id + 1000  # does NOT match the reservationId of step 1
        answer = await operator.command(
            cp,
            "CancelReservation",
            {"reservationId": unknown},
            answer={"status": "Rejected"},
        )  # steps 5-6
        assert answer == {"status": "Rejected"}
        return reservation_id

    assert Reservation.objects.get(pk=play(case)).status == "Accepted"
