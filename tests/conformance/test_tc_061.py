"""TC_061_CSMS Clear Authorization Data in Authorization Cache (OCTT 1.6 §3.3.2)."""

from __future__ import annotations


def test_tc_061_clear_cache(play, operator):
    async def case(cp):
        outcome = await operator.call(cp.id, "ClearCache", {})  # step 1
        assert (await cp.expect("ClearCache")).payload == {}
        return outcome

    outcome = play(case)
    assert outcome["status"] == "answered"
    assert outcome["response"] == {"status": "Accepted"}  # step 2
