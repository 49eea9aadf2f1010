"""TC_047_CSMS Reservation of a Connector - Expire (OCTT 1.6 §3.16): a reservation not used
before its expiryDate ends, and the connector is Available again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from charging import services
from charging.models import Connector, Reservation

from .harness import CONNECTOR, in_thread


def test_tc_047_reservation_of_a_connector_expire(play, operator, cp_id):
    async def case(cp):
        expiry = datetime.now(UTC) + timedelta(seconds=2)  # <Configured Expiry Date Offset>
        reservation_id = await operator.reserve(cp, expiry=expiry)  # steps 1-2
        await cp.status(CONNECTOR, "Reserved")  # steps 3-4
        await asyncio.sleep(max(0.0, (expiry - datetime.now(UTC)).total_seconds()) + 0.2)
        await cp.status(CONNECTOR, "Available")  # [the driver did not come] steps 5-6
        # The periodic housekeeping (levity.expire_stale_calls, beat) ends it.
        assert await in_thread(services.reservation_expire_due) == 1
        return reservation_id

    reservation_id = play(case)
    assert Reservation.objects.get(pk=reservation_id).status == "Expired"
    connector = Connector.objects.get(charge_point_id=cp_id, connector_id=CONNECTOR)
    assert connector.status == "Available"
