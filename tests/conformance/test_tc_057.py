"""TC_057_CSMS Central Smart Charging - TxProfile (OCTT 1.6 §3.19.1): the Central System sets a
schedule for the running transaction, naming it by its transactionId."""

from __future__ import annotations

from charging.models import ChargingProfile, Transaction

from .harness import CHARGING_RATE_UNIT, CONNECTOR, STACK_LEVEL, START_PERIOD


def test_tc_057_central_smart_charging_tx_profile(play, operator, cp_id):
    async def case(cp):
        transaction_id = await cp.charging()  # reusable state Charging
        profile = {
            "transactionId": transaction_id,
            "stackLevel": STACK_LEVEL,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": CHARGING_RATE_UNIT,
                "chargingSchedulePeriod": [{"startPeriod": START_PERIOD, "limit": 6.0}],
            },
        }
        payload = {"connectorId": CONNECTOR, "csChargingProfiles": profile}
        sent = await operator.with_profile(cp, "SetChargingProfile", payload)  # steps 1-2
        return transaction_id, sent

    transaction_id, sent = play(case)
    # Step 1's tool validations.
    assert sent["connectorId"] == CONNECTOR
    assert sent["csChargingProfiles"]["chargingProfilePurpose"] == "TxProfile"
    assert sent["csChargingProfiles"]["transactionId"] == transaction_id
    # Held as installed, and bound to the running transaction it ends with.
    stored = ChargingProfile.objects.get(charge_point_id=cp_id)
    transaction = Transaction.objects.get(pk=transaction_id)
    assert transaction.is_open and transaction.charge_point_id == cp_id
    assert (stored.status, stored.purpose, stored.connector_id, stored.transaction) == (
        "Installed",
        "TxProfile",
        CONNECTOR,
        transaction,
    )
    assert stored.charging_profile_id == sent["csChargingProfiles"]["chargingProfileId"]
