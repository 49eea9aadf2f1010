"""TC_039_CSMS Offline Transaction (OCTT 1.6 §3.12.3): a transaction started and stopped while
the charge point was offline, both messages queued until the connection is back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from charging.models import Transaction

from .harness import CONNECTOR, VALID_ID_TAG, ocpp_time

STARTED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
STOPPED = STARTED + timedelta(minutes=20)


def test_tc_039_offline_transaction(play, operator):
    async def case(cp):
        await cp.disconnect()  # [start, stop and unplug while offline]
        async with cp.reconnect() as again:  # [Restore connectivity]
            start = await again.start(
                CONNECTOR, VALID_ID_TAG, meter_start=500, timestamp=ocpp_time(STARTED)
            )
            assert start.id_tag_info["status"] == "Accepted"  # step 2
            stop = await again.stop(  # step 3
                start.transaction_id,
                "Local",
                meter_stop=5500,
                id_tag=VALID_ID_TAG,
                timestamp=ocpp_time(STOPPED),
            )
            assert stop.id_tag_info["status"] == "Accepted"
        return start.transaction_id

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.started_at, transaction.stopped_at) == (STARTED, STOPPED)
    assert (transaction.meter_start, transaction.meter_stop, transaction.stop_reason) == (
        500,
        5500,
        "Local",
    )
