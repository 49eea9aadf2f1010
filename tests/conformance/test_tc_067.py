"""TC_067_CSMS Clear Charging Profile (OCTT 1.6 §3.19.3): three profiles set, then cleared by
id, by criteria, and all the rest; after each step the Central System holds what the charge
point holds."""

from __future__ import annotations

from charging.models import ChargingProfile
from tests.e2e.harness import in_thread

from .harness import CONNECTOR, STACK_LEVEL
from .test_tc_056 import tx_default_profile

CRITERIA = {
    "connectorId": CONNECTOR,
    "chargingProfilePurpose": "TxDefaultProfile",
    "stackLevel": STACK_LEVEL + 1,
}


def statuses(cp_id: str) -> dict[int, str]:
    rows = ChargingProfile.objects.filter(charge_point_id=cp_id)
    return dict(rows.values_list("stack_level", "status"))


def test_tc_067_clear_charging_profile(play, operator, cp_id):
    levels = [STACK_LEVEL, STACK_LEVEL + 1, STACK_LEVEL + 2]

    async def case(cp):
        ids = []
        for level in levels:  # steps 1-2, three times
            payload = {"connectorId": CONNECTOR, "csChargingProfiles": tx_default_profile(level)}
            sent = await operator.with_profile(cp, "SetChargingProfile", payload)
            assert sent["connectorId"] == CONNECTOR
            profile = sent["csChargingProfiles"]
            assert (profile["chargingProfilePurpose"], profile["stackLevel"]) == (
                "TxDefaultProfile",
                level,
            )
            ids.append(profile["chargingProfileId"])
        assert len(set(ids)) == 3  # three different profiles
        assert await in_thread(statuses, cp_id) == dict.fromkeys(levels, "Installed")

        # Steps 3-4: by the id of profile 1; the other fields omitted (the charge point checks
        # it got exactly this).
        answer = await operator.command(cp, "ClearChargingProfile", {"id": ids[0]})
        assert answer == {"status": "Accepted"}
        assert await in_thread(statuses, cp_id) == {
            levels[0]: "Cleared",
            levels[1]: "Installed",
            levels[2]: "Installed",
        }

        # Steps 5-6: by criteria, no id.
        answer = await operator.command(cp, "ClearChargingProfile", CRITERIA)
        assert answer == {"status": "Accepted"}
        assert await in_thread(statuses, cp_id) == {
            levels[0]: "Cleared",
            levels[1]: "Cleared",
            levels[2]: "Installed",
        }

        # Steps 7-8: every field omitted, all the rest.
        assert await operator.command(cp, "ClearChargingProfile", {}) == {"status": "Accepted"}
        return ids

    ids = play(case)
    assert statuses(cp_id) == dict.fromkeys(levels, "Cleared")
    cleared = ChargingProfile.objects.filter(charge_point_id=cp_id).order_by("stack_level")
    assert [p.charging_profile_id for p in cleared] == ids
    assert [p.cleared_by.payload for p in cleared] == [
        {"id": ids[0]},
        CRITERIA,
        {},
    ]
