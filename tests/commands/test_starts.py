"""charging.commands.starts: the registry of what a call starts covers every action that does."""

from __future__ import annotations

import pytest

from charging.commands import starts
from charging.services.charging_profiles import PROFILE_FIELDS
from charging.services.jobs import JOB_REQUESTS


def test_every_job_request_and_profile_carrier_is_registered():
    for action in [*JOB_REQUESTS, *PROFILE_FIELDS, "ReserveNow"]:
        assert starts.start_for(action) is not starts.NOTHING, action
    assert starts.start_for("ClearCache") is starts.NOTHING


def test_the_ids_chosen_for_the_caller():
    allocated = {
        action: starts.start_for(action).allocates
        for action in [*JOB_REQUESTS, *PROFILE_FIELDS, "ReserveNow"]
    }
    assert {action: field for action, field in allocated.items() if field} == {
        "ReserveNow": "reservationId",
        "GetLog": "requestId",
        "SignedUpdateFirmware": "requestId",
    }


def test_an_action_is_registered_once():
    with pytest.raises(ValueError, match="ReserveNow"):
        starts.starts("ReserveNow")(lambda **_: None)
