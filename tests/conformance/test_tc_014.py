"""TC_014_CSMS Soft Reset (OCTT 1.6 §3.5.2)."""

from __future__ import annotations

from charging.models import Connector


def test_tc_014_soft_reset(play, operator, cp_id):
    async def case(cp):
        await operator.command(cp, "Reset", {"type": "Soft"}, answer={"status": "Accepted"})
        async with cp.reboot() as again:  # steps 3-4: BootNotification Accepted
            await again.statuses("Available")  # step 5

    play(case)
    assert set(
        Connector.objects.filter(charge_point_id=cp_id).values_list("status", flat=True)
    ) == {"Available"}
