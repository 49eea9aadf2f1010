"""TC_003_CSMS Regular Charging Session - Plugin First (OCTT 1.6 §3.2.1)."""

from __future__ import annotations

from charging.models import Connector, Transaction

from .harness import CONNECTOR, VALID_ID_TAG


def test_tc_003_plugin_first(play, operator, cp_id):
    async def case(cp):
        await cp.plug_in()  # step 1: Preparing
        info = await cp.authorize()  # step 3
        assert info["status"] == "Accepted"  # step 4
        return await cp.start_charging()  # steps 5-8: Accepted, then Charging

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.charge_point_id, transaction.connector_id) == (cp_id, CONNECTOR)
    assert (transaction.id_tag, transaction.id_tag_status, transaction.is_open) == (
        VALID_ID_TAG,
        "Accepted",
        True,
    )
    assert Connector.objects.get(charge_point_id=cp_id, connector_id=CONNECTOR).status == "Charging"
