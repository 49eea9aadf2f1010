"""TC_048_1..4_CSMS Reservation of a Connector - Faulted / Occupied / Unavailable / Rejected
(OCTT 1.6 §3.16): the charge point's refusal is the reservation's status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from charging.models import Reservation


@pytest.mark.parametrize(
    "status",
    ["Faulted", "Occupied", "Unavailable", "Rejected"],
    ids=["tc_048_1_faulted", "tc_048_2_occupied", "tc_048_3_unavailable", "tc_048_4_rejected"],
)
def test_tc_048_reservation_not_made(play, operator, cp_id, status):
    async def case(cp):
        expiry = datetime.now(UTC) + timedelta(hours=1)
        return await operator.reserve(cp, expiry=expiry, answer=status)  # steps 1-2

    reservation = Reservation.objects.get(pk=play(case))
    assert (reservation.charge_point_id, reservation.status) == (cp_id, status)
    assert reservation.transaction is None
