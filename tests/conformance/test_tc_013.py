"""TC_013_CSMS Hard Reset (OCTT 1.6 §3.5.1)."""

from __future__ import annotations

from charging.models import ChargePoint


def test_tc_013_hard_reset(play, operator, cp_id):
    async def case(cp):
        await operator.command(cp, "Reset", {"type": "Hard"}, answer={"status": "Accepted"})
        async with cp.reboot() as again:  # steps 3-4: BootNotification Accepted
            await again.statuses("Available")  # step 5

    play(case)
    assert ChargePoint.objects.get(pk=cp_id).registration_status == "Accepted"
