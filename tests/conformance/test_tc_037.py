"""TC_037_1_CSMS Offline Start Transaction - Valid IdTag and TC_037_3_CSMS … - Invalid IdTag -
StopTransactionOnInvalidId = true (OCTT 1.6 §3.12.1, §3.12.2): the transaction started while
the charge point was offline is accepted (or refused) when its queued StartTransaction arrives,
with the charger's start time kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from charging.models import Connector, Transaction

from .harness import CONNECTOR, VALID_ID_TAG, ocpp_time

STARTED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)  # while offline


async def queued_start(cp, id_tag):
    """After [Remove connectivity], [EV driver starts offline], [Restore connectivity]: the
    queued StartTransaction (step 1), then StatusNotification Charging (step 3)."""
    start = await cp.start(CONNECTOR, id_tag, timestamp=ocpp_time(STARTED))
    await cp.status(CONNECTOR, "Charging")
    return start


def test_tc_037_1_offline_start_valid_id_tag(play, operator, cp_id):
    async def case(cp):
        await cp.disconnect()
        async with cp.reconnect() as again:
            start = await queued_start(again, VALID_ID_TAG)
        assert start.id_tag_info["status"] == "Accepted"  # step 2
        return start.transaction_id

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.id_tag, transaction.started_at, transaction.is_open) == (
        VALID_ID_TAG,
        STARTED,
        True,
    )
    assert transaction.start_received_at > STARTED  # the charger's time and ours, both kept


def test_tc_037_3_offline_start_invalid_id_tag(play, operator, cp_id):
    operator.id_tag("OCTT-INVALID", status="Invalid")

    async def case(cp):
        await cp.disconnect()
        async with cp.reconnect() as again:
            start = await queued_start(again, "OCTT-INVALID")
            assert start.id_tag_info["status"] == "Invalid"  # step 2
            # StopTransactionOnInvalidId = true: the charger stops the transaction itself.
            await again.stop(start.transaction_id, "DeAuthorized", id_tag="OCTT-INVALID")
            await again.status(CONNECTOR, "Finishing")  # step 7
        return start.transaction_id

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.id_tag_status, transaction.stop_reason, transaction.is_open) == (
        "Invalid",
        "DeAuthorized",
        False,
    )
    connector = Connector.objects.get(charge_point_id=cp_id, connector_id=CONNECTOR)
    assert connector.status == "Finishing"
