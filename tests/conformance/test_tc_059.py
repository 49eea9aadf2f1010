"""TC_059_CSMS Remote Start Transaction with Charging Profile (OCTT 1.6 §3.19.4): the
RemoteStartTransaction carries a TxProfile, which the Central System keeps and binds to the
transaction the charge point then starts."""

from __future__ import annotations

from charging.models import ChargingProfile, Transaction

from .harness import CHARGING_RATE_UNIT, CONNECTOR, STACK_LEVEL, VALID_ID_TAG

REMOTE_START = {
    "connectorId": CONNECTOR,
    "idTag": VALID_ID_TAG,
    "chargingProfile": {
        "stackLevel": STACK_LEVEL,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": CHARGING_RATE_UNIT,
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}],
        },
    },
}


def test_tc_059_remote_start_transaction_with_charging_profile(play, operator, cp_id):
    async def case(cp):
        sent = await operator.with_profile(cp, "RemoteStartTransaction", REMOTE_START)  # 1-2
        assert (await cp.authorize(sent["idTag"]))["status"] == "Accepted"  # steps 3-4
        await cp.plug_in(sent["connectorId"])  # steps 5-6: Preparing
        # Steps 7-10: StartTransaction Accepted, then Charging, with step 1's idTag/connector.
        transaction_id = await cp.start_charging(sent["connectorId"], sent["idTag"])
        return sent, transaction_id

    sent, transaction_id = play(case)
    # Step 1's tool validations.
    profile = sent["chargingProfile"]
    assert (sent["idTag"], sent["connectorId"]) == (VALID_ID_TAG, CONNECTOR)
    assert profile["chargingProfilePurpose"] == "TxProfile" and "transactionId" not in profile
    assert profile["chargingProfileKind"] == "Relative"
    assert profile["chargingSchedule"]["chargingSchedulePeriod"][0]["startPeriod"] == 0
    # Expected result: the transaction is started and accepted; the TxProfile is held for it.
    transaction = Transaction.objects.get(pk=transaction_id)
    assert (transaction.charge_point_id, transaction.id_tag, transaction.connector_id) == (
        cp_id,
        VALID_ID_TAG,
        CONNECTOR,
    )
    stored = ChargingProfile.objects.get(charge_point_id=cp_id)
    assert (stored.status, stored.purpose, stored.kind, stored.connector_id) == (
        "Installed",
        "TxProfile",
        "Relative",
        CONNECTOR,
    )
    assert stored.transaction == transaction and stored.call.action == "RemoteStartTransaction"
    assert stored.charging_profile_id == profile["chargingProfileId"]
