"""TC_010_CSMS Remote Start Charging Session – Cable Plugged in First (OCTT 1.6 §3.4.1)."""

from __future__ import annotations

from charging.models import OutboundCall, Transaction

from .harness import CONNECTOR, VALID_ID_TAG


def test_tc_010_remote_start_cable_plugged_in_first(play, operator, cp_id):
    async def case(cp):
        await cp.plug_in()  # step 1: Preparing
        await operator.command(  # steps 3-4
            cp,
            "RemoteStartTransaction",
            {"connectorId": CONNECTOR, "idTag": VALID_ID_TAG},
            answer={"status": "Accepted"},
        )
        assert (await cp.authorize())["status"] == "Accepted"  # steps 5-6
        return await cp.start_charging()  # steps 7-10: Accepted, then Charging

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.id_tag, transaction.is_open) == (VALID_ID_TAG, True)
    remote_start = OutboundCall.objects.get(
        charge_point_id=cp_id, action="RemoteStartTransaction", requested_by="octt-operator"
    )
    assert remote_start.response == {"status": "Accepted"}
