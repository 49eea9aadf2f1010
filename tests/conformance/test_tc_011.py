"""TC_011_1_CSMS Remote Start Charging Session – Remote Start First and TC_011_2_CSMS … – Time
Out (OCTT 1.6 §3.4.2, §3.4.3)."""

from __future__ import annotations

from charging.models import Transaction

from .harness import CONNECTOR, VALID_ID_TAG, assert_no_session

REMOTE_START = {"connectorId": CONNECTOR, "idTag": VALID_ID_TAG}


def test_tc_011_1_remote_start_first(play, operator, cp_id):
    async def case(cp):
        await operator.command(  # steps 1-2
            cp, "RemoteStartTransaction", REMOTE_START, answer={"status": "Accepted"}
        )
        assert (await cp.authorize())["status"] == "Accepted"  # steps 3-4
        await cp.plug_in()  # step 5: Preparing
        return await cp.start_charging()  # steps 7-10: Accepted, then Charging

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.charge_point_id, transaction.id_tag) == (cp_id, VALID_ID_TAG)


def test_tc_011_2_remote_start_time_out(play, operator, cp_id):
    async def case(cp):
        await operator.command(
            cp, "RemoteStartTransaction", REMOTE_START, answer={"status": "Accepted"}
        )
        assert (await cp.authorize())["status"] == "Accepted"
        await cp.plug_in()  # step 5: Preparing
        # [After the configured connection timeout has been reached.]
        await cp.status(CONNECTOR, "Available")  # step 7

    play(case)
    assert_no_session(cp_id)
