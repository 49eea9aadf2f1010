"""TC_003_CSMS Regular Charging Session - Plugin First (OCTT 1.6 §3.2.1)."""

from __future__ import annotations

from charging.models import Connector, Transaction

from .harness import CONNECTOR, VALID_ID_TAG


def test_tc_003_plugin_first(play, operator, cp_id):
    async def case(cp):
        await cp.plug_in()  # step 1: Preparing
        info = await cp.authorize()  # step 3
        assert info["status"] == "Accepted"  # step 4
        start = await cp.start(meter_start=100)  # step 5
        assert start.id_tag_info["status"] == "Accepted"  # step 6
        await cp.status(CONNECTOR, "Charging")  # step 7
        return start.transaction_id

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.charge_point_id, transaction.connector_id) == (cp_id, CONNECTOR)
    assert (transaction.id_tag, transaction.meter_start, transaction.is_open) == (
        VALID_ID_TAG,
        100,
        True,
    )
    assert Connector.objects.get(charge_point_id=cp_id, connector_id=CONNECTOR).status == "Charging"
