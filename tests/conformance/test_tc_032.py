"""TC_032_1_CSMS Power failure boot charging point-configured to stop transaction(s) (OCTT 1.6
§3.11.1)."""

from __future__ import annotations

from charging.models import Connector, Transaction

from .harness import CONNECTOR


def test_tc_032_1_power_failure_stops_the_transaction(play, operator, cp_id):
    async def case(cp):
        transaction_id = await cp.charging()
        # [Disconnect and reconnect the power of the Charge Point.]
        async with cp.reboot() as again:  # steps 1-2: BootNotification Accepted
            await again.status(CONNECTOR, "Finishing")  # step 3: the transaction's connector…
            await again.statuses("Available", skip=(CONNECTOR,))  # …and the others
            stop = await again.stop(transaction_id, "PowerLoss", meter_stop=3300)  # step 5
            assert stop.id_tag_info is None
        return transaction_id

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.stop_reason, transaction.meter_stop, transaction.is_open) == (
        "PowerLoss",
        3300,
        False,
    )
    statuses = dict(
        Connector.objects.filter(charge_point_id=cp_id).values_list("connector_id", "status")
    )
    assert statuses == {0: "Available", 1: "Finishing", 2: "Available"}
