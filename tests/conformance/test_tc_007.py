"""TC_007_CSMS Regular Start Charging Session – Cached Id (OCTT 1.6 §3.3.1)."""

from __future__ import annotations

from charging.models import Transaction

from .harness import VALID_ID_TAG


def test_tc_007_cached_id(play, operator, cp_id):
    async def case(cp):
        await cp.plug_in()  # step 1: Preparing
        # [EV driver presents identification]: found in the charger's cache, no Authorize.
        return await cp.start_charging()  # steps 3-6: Accepted, then Charging

    transaction = Transaction.objects.get(pk=play(case))
    assert (transaction.charge_point_id, transaction.id_tag) == (cp_id, VALID_ID_TAG)
    assert transaction.id_tag_status == "Accepted"
