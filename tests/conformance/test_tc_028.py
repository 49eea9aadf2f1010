"""TC_028_CSMS Remote Stop Transaction – Rejected (OCTT 1.6 §3.9.2): an unknown transactionId."""

from __future__ import annotations

from charging.models import Transaction


def test_tc_028_remote_stop_rejected(play, operator):
    async def case(cp):
        transaction_id = await cp.charging()
        unknown = transaction_id + 1000
        await operator.command(
            cp,
            "RemoteStopTransaction",
            {"transactionId": unknown},
            answer={"status": "Rejected"},
        )
        return transaction_id

    assert Transaction.objects.get(pk=play(case)).is_open  # nothing stopped
