"""TC_043_1/3/4/5_CSMS Send Local Authorization List - NotSupported / Failed / Full /
Differential (OCTT 1.6 §3.14): the list is built from our id tags, in full, then only what
changed since the version the charge point accepted."""

from __future__ import annotations

import pytest

from charging.models import ChargePoint

from .harness import VALID_ID_TAG, in_thread


@pytest.mark.parametrize(
    "status", ["NotSupported", "Failed"], ids=["tc_043_1_not_supported", "tc_043_3_failed"]
)
def test_tc_043_refused(play, operator, cp_id, status):
    async def case(cp):
        return await operator.sync_local_list(cp, full=True, answer=status)  # steps 1-2

    exchanged = play(case)
    assert exchanged["request"]["updateType"] == "Full"
    assert ChargePoint.objects.get(pk=cp_id).local_list_version is None  # nothing taken


def test_tc_043_4_full(play, operator, cp_id):
    operator.id_tag("OCTT-OTHER", status="Blocked")

    async def case(cp):
        return await operator.sync_local_list(cp, full=True, answer="Accepted")  # steps 1-2

    request = play(case)["request"]
    assert request["updateType"] == "Full"
    entries = {entry["idTag"]: entry for entry in request["localAuthorizationList"]}
    assert set(entries) == {VALID_ID_TAG, "OCTT-OTHER"}
    assert all("idTagInfo" in entry for entry in entries.values())  # every entry has one
    assert entries["OCTT-OTHER"]["idTagInfo"]["status"] == "Blocked"
    assert ChargePoint.objects.get(pk=cp_id).local_list_version == request["listVersion"]


def test_tc_043_5_differential(play, operator, cp_id):
    async def case(cp):
        first = await operator.sync_local_list(cp, full=True, answer="Accepted")
        # Optional steps 1-2: the charge point reports the version it has.
        version = first["request"]["listVersion"]
        await operator.command(cp, "GetLocalListVersion", {}, answer={"listVersion": version})
        await in_thread(operator.id_tag, "OCTT-NEW", status="Accepted")
        return await operator.sync_local_list(cp, full=False, answer="Accepted")  # steps 3-4

    request = play(case)["request"]
    assert request["updateType"] == "Differential"
    assert [entry["idTag"] for entry in request["localAuthorizationList"]] == ["OCTT-NEW"]
    assert all("idTagInfo" in entry for entry in request["localAuthorizationList"])
    assert ChargePoint.objects.get(pk=cp_id).local_list_version == request["listVersion"]
