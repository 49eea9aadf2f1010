"""TC_024_CSMS Start Charging Session Lock Failure (OCTT 1.6 §3.8.4)."""

from __future__ import annotations

from charging.models import Connector, Transaction

from .harness import CONNECTOR


def test_tc_024_lock_failure(play, operator, cp_id):
    async def case(cp):
        await cp.authorized()  # reusable state Authorized
        await cp.plug_in()  # step 1: Preparing
        await cp.status(CONNECTOR, "Faulted", error_code="ConnectorLockFailure")  # step 3

    play(case)
    connector = Connector.objects.get(charge_point_id=cp_id, connector_id=CONNECTOR)
    assert (connector.status, connector.error_code) == ("Faulted", "ConnectorLockFailure")
    assert not Transaction.objects.filter(charge_point_id=cp_id).exists()
