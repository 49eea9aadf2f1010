"""TC_005_1_CSMS EV Side Disconnected - StopTransactionOnEVSideDisconnect = true -
UnlockConnectorOnEVSideDisconnect = true (OCTT 1.6 §3.2.4)."""

from __future__ import annotations

from charging.models import Connector, Transaction

from .harness import CONNECTOR


def test_tc_005_1_ev_side_disconnected(play, operator, cp_id):
    async def case(cp):
        transaction_id = await cp.charging()
        await cp.status(CONNECTOR, "SuspendedEV")  # step 1
        # Steps 3-8: StopTransaction EVDisconnected, Finishing, [unplugged] Available.
        stop = await cp.end_session(transaction_id, "EVDisconnected")
        assert stop.id_tag_info is None  # no idTag sent, none answered
        return transaction_id

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.stop_reason, transaction.meter_stop) == ("EVDisconnected", 2000)
    assert not transaction.is_open
    assert Connector.objects.get(charge_point_id=cp_id, connector_id=CONNECTOR).status == (
        "Available"
    )
