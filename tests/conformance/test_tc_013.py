"""TC_013_CSMS Hard Reset (OCTT 1.6 §3.5.1)."""

from __future__ import annotations

from charging.models import ChargePoint

from .harness import reset_case


def test_tc_013_hard_reset(play, operator, cp_id):
    async def case(cp):
        await reset_case(cp, operator, "Hard")

    play(case)
    assert ChargePoint.objects.get(pk=cp_id).registration_status == "Accepted"
