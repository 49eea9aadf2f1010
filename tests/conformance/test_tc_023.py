"""TC_023_1_CSMS / TC_023_2_CSMS / TC_023_3_CSMS Start Charging Session – Authorize invalid,
expired, blocked (OCTT 1.6 §3.8.1–§3.8.3). The prerequisite "the Central System has an idTag in
memory with status …" is the operator's id tag: Invalid, Accepted but past its expiry date, and
Blocked. (An idTag the Central System does not know at all is Invalid only with
OCPP_ACCEPT_UNKNOWN_ID_TAGS=false: docs/conformance.md.)"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from .harness import parse_ocpp_time

PAST = "2020-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        pytest.param({"status": "Invalid"}, "Invalid", id="tc_023_1_invalid"),
        pytest.param({"status": "Accepted", "expiry_date": PAST}, "Expired", id="tc_023_2_expired"),
        pytest.param({"status": "Blocked"}, "Blocked", id="tc_023_3_blocked"),
    ],
)
def test_tc_023_authorize_refused(play, operator, fields, status):
    operator.id_tag("OCTT-REFUSED", **fields)

    async def case(cp):
        return await cp.authorize("OCTT-REFUSED")  # step 1

    info = play(case)
    assert info["status"] == status  # step 2
    if "expiry_date" in fields:
        assert parse_ocpp_time(info["expiry_date"]) == datetime(2020, 1, 1, tzinfo=UTC)
