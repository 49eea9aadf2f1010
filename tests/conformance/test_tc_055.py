"""TC_055_CSMS Trigger Message - Rejected (OCTT 1.6 §3.18.2): MeterValues for a connector the
charge point does not have."""

from __future__ import annotations

from .harness import NUMBER_OF_CONNECTORS


def test_tc_055_trigger_message_rejected(play, operator):
    async def case(cp):
        return await operator.command(
            cp,
            "TriggerMessage",
            {"requestedMessage": "MeterValues", "connectorId": NUMBER_OF_CONNECTORS + 1},
            answer={"status": "Rejected"},
        )

    assert play(case) == {"status": "Rejected"}
