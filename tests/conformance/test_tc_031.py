"""TC_031_CSMS Unlock Connector – Unknown Connector (OCTT 1.6 §3.10.2)."""

from __future__ import annotations

from .harness import NUMBER_OF_CONNECTORS


def test_tc_031_unlock_unknown_connector(play, operator):
    async def case(cp):
        return await operator.command(
            cp,
            "UnlockConnector",
            {"connectorId": NUMBER_OF_CONNECTORS + 1},
            answer={"status": "NotSupported"},
        )

    assert play(case) == {"status": "NotSupported"}
