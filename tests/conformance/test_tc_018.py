"""TC_018_1_CSMS Unlock Connector - With Charging Session (Not fixed cable) (OCTT 1.6 §3.6.3)."""

from __future__ import annotations

from charging.models import Connector, Transaction

from .harness import CONNECTOR


def test_tc_018_1_unlock_connector_with_session(play, operator, cp_id):
    async def case(cp):
        transaction_id = await cp.charging()
        await operator.command(  # steps 1-2
            cp, "UnlockConnector", {"connectorId": CONNECTOR}, answer={"status": "Unlocked"}
        )
        # Steps 3-8: Finishing, StopTransaction UnlockCommand, [unplugged] Available.
        await cp.end_session(transaction_id, "UnlockCommand", finishing_first=True)
        return transaction_id

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.stop_reason, transaction.is_open) == ("UnlockCommand", False)
    assert Connector.objects.get(charge_point_id=cp_id, connector_id=CONNECTOR).status == (
        "Available"
    )
