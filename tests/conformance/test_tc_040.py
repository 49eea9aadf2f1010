"""TC_040_1_CSMS / TC_040_2_CSMS Configuration keys: NotSupported, and Rejected for an invalid
value (OCTT 1.6 §3.13.1, §3.13.2). A refused change is not stored as the key's value."""

from __future__ import annotations

import pytest

from charging.models import ConfigurationKey


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        pytest.param("OCTTUnknownKey", "1", "NotSupported", id="tc_040_1_not_supported"),
        pytest.param("MeterValueSampleInterval", "-1", "Rejected", id="tc_040_2_invalid_value"),
    ],
)
def test_tc_040_configuration_key_refused(play, operator, cp_id, key, value, status):
    async def case(cp):
        return await operator.command(
            cp,
            "ChangeConfiguration",
            {"key": key, "value": value},
            answer={"status": status},
        )

    assert play(case) == {"status": status}
    assert not ConfigurationKey.objects.filter(charge_point_id=cp_id, key=key).exists()
