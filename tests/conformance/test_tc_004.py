"""TC_004_1_CSMS Regular Charging Session – Identification First and TC_004_2_CSMS … –
ConnectionTimeOut (OCTT 1.6 §3.2.2, §3.2.3)."""

from __future__ import annotations

from charging.models import Transaction

from .harness import CONNECTOR, VALID_ID_TAG, assert_no_session


def test_tc_004_1_identification_first(play, operator, cp_id):
    async def case(cp):
        return await cp.charging()  # the scenario is the reusable state Charging

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.charge_point_id, transaction.id_tag, transaction.is_open) == (
        cp_id,
        VALID_ID_TAG,
        True,
    )


def test_tc_004_2_connection_timeout(play, operator, cp_id):
    async def case(cp):
        await cp.authorized()  # reusable state Authorized
        await cp.plug_in()  # step 1: Preparing
        # [After the configured connectionTimeOut has expired.]
        await cp.status(CONNECTOR, "Available")  # step 3

    play(case)
    assert_no_session(cp_id)
