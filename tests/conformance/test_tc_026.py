"""TC_026_CSMS Remote Start Charging Session – Rejected (OCTT 1.6 §3.9.1)."""

from __future__ import annotations

from charging.models import OutboundCall, Transaction

from .harness import CONNECTOR, VALID_ID_TAG


def test_tc_026_remote_start_rejected(play, operator, cp_id):
    async def case(cp):
        # [The CPO remotely requests a start transaction.]
        return await operator.command(
            cp,
            "RemoteStartTransaction",
            {"connectorId": CONNECTOR, "idTag": VALID_ID_TAG},
            answer={"status": "Rejected"},
        )

    assert play(case) == {"status": "Rejected"}  # an answer, not an error
    assert OutboundCall.objects.get(charge_point_id=cp_id).status == "answered"
    assert not Transaction.objects.filter(charge_point_id=cp_id).exists()
