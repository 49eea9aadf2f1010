"""TC_014_CSMS Soft Reset (OCTT 1.6 §3.5.2)."""

from __future__ import annotations

from charging.models import Connector

from .harness import reset_case


def test_tc_014_soft_reset(play, operator, cp_id):
    async def case(cp):
        await reset_case(cp, operator, "Soft")

    play(case)
    assert set(
        Connector.objects.filter(charge_point_id=cp_id).values_list("status", flat=True)
    ) == {"Available"}
