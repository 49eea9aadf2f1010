"""TC_021_CSMS Change/set Configuration (OCTT 1.6 §3.7.3)."""

from __future__ import annotations

from charging.models import ConfigurationKey


def test_tc_021_change_configuration(play, operator, cp_id):
    async def case(cp):
        return await operator.command(
            cp,
            "ChangeConfiguration",
            {"key": "MeterValueSampleInterval", "value": "60"},  # step 1
            answer={"status": "Accepted"},  # step 2
        )

    assert play(case) == {"status": "Accepted"}
    stored = ConfigurationKey.objects.get(charge_point_id=cp_id, key="MeterValueSampleInterval")
    assert stored.value == "60"
