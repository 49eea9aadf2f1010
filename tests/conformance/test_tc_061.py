"""TC_061_CSMS Clear Authorization Data in Authorization Cache (OCTT 1.6 §3.3.2)."""

from __future__ import annotations

from charging.models import OutboundCall


def test_tc_061_clear_cache(play, operator, cp_id):
    async def case(cp):
        # Step 1: ClearCache, with no fields; step 2: Accepted.
        return await operator.command(cp, "ClearCache", {}, answer={"status": "Accepted"})

    assert play(case) == {"status": "Accepted"}
    call = OutboundCall.objects.get(charge_point_id=cp_id)
    assert (call.action, call.status, call.requested_by) == (
        "ClearCache",
        "answered",
        "octt-operator",
    )
