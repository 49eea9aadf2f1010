"""TC_017_1_CSMS / TC_017_2_CSMS Unlock connector - no charging session running, not fixed /
fixed cable (OCTT 1.6 §3.6.1, §3.6.2)."""

from __future__ import annotations

import pytest

from .harness import CONNECTOR


@pytest.mark.parametrize(
    "status", ["Unlocked", "NotSupported"], ids=["tc_017_1_not_fixed", "tc_017_2_fixed_cable"]
)
def test_tc_017_unlock_connector_without_session(play, operator, status):
    async def case(cp):
        return await operator.command(
            cp, "UnlockConnector", {"connectorId": CONNECTOR}, answer={"status": status}
        )

    assert play(case) == {"status": status}
