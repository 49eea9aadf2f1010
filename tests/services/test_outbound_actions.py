"""charging.services.outbound_actions: one registry of what each action does around a call."""

from __future__ import annotations

import pytest

from charging import services
from charging.services.charging_profiles import PROFILE_FIELDS
from charging.services.jobs import JOB_REQUESTS
from charging.services.outbound_actions import NOTHING, ActionSpec, action_register, action_spec


def test_every_job_request_and_profile_carrier_is_registered():
    for action in [*JOB_REQUESTS, *PROFILE_FIELDS, "ReserveNow"]:
        assert action_spec(action).start is not NOTHING, action
    assert action_spec("ClearCache").start is NOTHING


def test_the_ids_chosen_for_the_caller():
    allocated = {
        action: action_spec(action).start.allocates
        for action in [*JOB_REQUESTS, *PROFILE_FIELDS, "ReserveNow"]
    }
    assert {action: field for action, field in allocated.items() if field} == {
        "ReserveNow": "reservationId",
        "GetLog": "requestId",
        "SignedUpdateFirmware": "requestId",
    }


def test_an_action_is_registered_once():
    with pytest.raises(ValueError, match="ReserveNow"):
        action_register(ActionSpec("ReserveNow"))


def test_the_flags_and_flows():
    assert services.action_never_replayed("BootNotification")
    assert services.action_never_replayed("Heartbeat")
    assert not services.action_never_replayed("StatusNotification")
    flow = action_spec("AutoRemoteStart")
    assert flow.action == "RemoteStartTransaction" and flow.confirm is not None
    assert action_spec("ChangeConfiguration").redact is not None
