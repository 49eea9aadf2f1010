"""TC_019_1_CSMS Retrieve all configuration keys and TC_019_2_CSMS Retrieve specific
configuration key (OCTT 1.6 §3.7.1, §3.7.2)."""

from __future__ import annotations

from charging.models import ConfigurationKey

# The keys the case requires of a charge point with the Core, Local Auth List Management and
# Smart Charging profiles, and whether each is read-only (R) or read-write (RW).
READ_ONLY = {
    "GetConfigurationMaxKeys",
    "NumberOfConnectors",
    "SupportedFeatureProfiles",
    "LocalAuthListMaxLength",
    "SendLocalListMaxLength",
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "ChargingScheduleMaxPeriods",
    "MaxChargingProfilesInstalled",
}
READ_WRITE = {
    "AuthorizeRemoteTxRequests",
    "ClockAlignedDataInterval",
    "ConnectionTimeOut",
    "ConnectorPhaseRotation",
    "HeartbeatInterval",
    "LocalAuthorizeOffline",
    "LocalPreAuthorize",
    "MeterValuesAlignedData",
    "MeterValuesSampledData",
    "MeterValueSampleInterval",
    "ResetRetries",
    "StopTransactionOnEVSideDisconnect",
    "StopTransactionOnInvalidId",
    "StopTxnAlignedData",
    "StopTxnSampledData",
    "TransactionMessageAttempts",
    "TransactionMessageRetryInterval",
    "UnlockConnectorOnEVSideDisconnect",
    "LocalAuthListEnabled",
}
PROFILES = "Core,LocalAuthListManagement,SmartCharging,RemoteTrigger"
VALUES = {"SupportedFeatureProfiles": PROFILES, "NumberOfConnectors": "2"}
ALL_KEYS = [
    {"key": key, "readonly": key in READ_ONLY, "value": VALUES.get(key, "0")}
    for key in sorted(READ_ONLY | READ_WRITE)
]


def test_tc_019_1_retrieve_all_configuration_keys(play, operator, cp_id):
    async def case(cp):
        # Step 1: the key is <Empty>.
        return await operator.command(
            cp, "GetConfiguration", {}, answer={"configurationKey": ALL_KEYS}
        )

    assert play(case) == {"configurationKey": ALL_KEYS}  # step 2
    stored = ConfigurationKey.objects.filter(charge_point_id=cp_id)
    assert {(k.key, k.readonly, k.value) for k in stored} == {
        (k["key"], k["readonly"], k["value"]) for k in ALL_KEYS
    }


def test_tc_019_2_retrieve_specific_configuration_key(play, operator, cp_id):
    wanted = {"key": "SupportedFeatureProfiles", "readonly": True, "value": PROFILES}

    async def case(cp):
        return await operator.command(
            cp,
            "GetConfiguration",
            {"key": ["SupportedFeatureProfiles"]},  # step 1
            answer={"configurationKey": [wanted]},  # step 2: unknownKey is empty
        )

    assert play(case) == {"configurationKey": [wanted]}
    stored = ConfigurationKey.objects.get(charge_point_id=cp_id)
    assert (stored.key, stored.readonly, stored.value) == (
        "SupportedFeatureProfiles",
        True,
        PROFILES,
    )
