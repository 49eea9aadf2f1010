"""TC_012_CSMS Remote Stop Charging Session (OCTT 1.6 §3.4.4)."""

from __future__ import annotations

from charging.models import Transaction


def test_tc_012_remote_stop(play, operator):
    async def case(cp):
        transaction_id = await cp.charging()
        # Steps 1-2: the transactionId is the one the Central System gave at the start.
        await operator.command(
            cp,
            "RemoteStopTransaction",
            {"transactionId": transaction_id},
            answer={"status": "Accepted"},
        )
        await cp.end_session(transaction_id, "Remote")  # steps 3-8: Finishing, Available
        return transaction_id

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.stop_reason, transaction.is_open) == ("Remote", False)
