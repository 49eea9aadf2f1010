"""TC_056_CSMS Central Smart Charging - TxDefaultProfile (OCTT 1.6 §3.19.1): the Central
System sets a default schedule for new transactions, and holds it as installed once the charge
point accepts it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from charging.models import ChargingProfile

from .harness import (
    CHARGING_RATE_UNIT,
    CONNECTOR,
    NUMBER_PHASES,
    SCHEDULE_DURATION,
    STACK_LEVEL,
    START_PERIOD,
    ocpp_time,
    parse_ocpp_time,
)


def tx_default_profile(stack_level: int = STACK_LEVEL) -> dict:
    now = datetime.now(UTC)
    return {
        "stackLevel": stack_level,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "validFrom": ocpp_time(now),
        "validTo": ocpp_time(now + timedelta(days=1)),
        "chargingSchedule": {
            "duration": SCHEDULE_DURATION,
            "startSchedule": ocpp_time(now),
            "chargingRateUnit": CHARGING_RATE_UNIT,
            "chargingSchedulePeriod": [
                {"startPeriod": START_PERIOD, "limit": 6.0, "numberPhases": NUMBER_PHASES}
            ],
        },
    }


def test_tc_056_central_smart_charging_tx_default_profile(play, operator, cp_id):
    async def case(cp):
        payload = {"connectorId": CONNECTOR, "csChargingProfiles": tx_default_profile()}
        return await operator.with_profile(cp, "SetChargingProfile", payload)  # steps 1-2

    sent = play(case)
    # Step 1's tool validations, on the SetChargingProfile.req the charge point received.
    profile = sent["csChargingProfiles"]
    schedule = profile["chargingSchedule"]
    (period,) = schedule["chargingSchedulePeriod"]
    assert sent["connectorId"] == CONNECTOR
    assert (profile["stackLevel"], profile["chargingProfilePurpose"]) == (
        STACK_LEVEL,
        "TxDefaultProfile",
    )
    assert profile["chargingProfileKind"] == "Absolute"
    assert profile["validFrom"] and profile["validTo"] and schedule["startSchedule"]
    assert (schedule["chargingRateUnit"], schedule["duration"]) == (
        CHARGING_RATE_UNIT,
        SCHEDULE_DURATION,
    )
    assert period["startPeriod"] == START_PERIOD and period["limit"] in (6.0, 6000.0)
    assert period.get("numberPhases", 3) == NUMBER_PHASES  # may be omitted when it is 3
    # What the Central System holds: the profile, installed (step 2: Accepted).
    stored = ChargingProfile.objects.get(charge_point_id=cp_id)
    assert (stored.charging_profile_id, stored.status, stored.answer) == (
        profile["chargingProfileId"],
        "Installed",
        "Accepted",
    )
    assert (stored.connector_id, stored.purpose, stored.stack_level, stored.kind) == (
        CONNECTOR,
        "TxDefaultProfile",
        STACK_LEVEL,
        "Absolute",
    )
    assert stored.valid_from == parse_ocpp_time(profile["validFrom"])
    assert stored.valid_to == parse_ocpp_time(profile["validTo"])
    assert stored.start_schedule == parse_ocpp_time(schedule["startSchedule"])
    assert (stored.duration, stored.charging_rate_unit) == (SCHEDULE_DURATION, CHARGING_RATE_UNIT)
    assert stored.schedule_periods == [period] and stored.transaction is None
