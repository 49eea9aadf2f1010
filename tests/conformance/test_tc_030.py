"""TC_030_CSMS Unlock Connector – Unlock Failure (OCTT 1.6 §3.10.1)."""

from __future__ import annotations

from .harness import CONNECTOR


def test_tc_030_unlock_failure(play, operator):
    async def case(cp):
        return await operator.command(
            cp, "UnlockConnector", {"connectorId": CONNECTOR}, answer={"status": "UnlockFailed"}
        )

    assert play(case) == {"status": "UnlockFailed"}
