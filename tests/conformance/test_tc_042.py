"""TC_042_1_CSMS Get Local List Version (not supported) and TC_042_2_CSMS … (empty) (OCTT 1.6
§3.14.1): the version the charge point reports is stored."""

from __future__ import annotations

import pytest

from charging.models import ChargePoint


@pytest.mark.parametrize("version", [-1, 0], ids=["tc_042_1_not_supported", "tc_042_2_empty"])
def test_tc_042_get_local_list_version(play, operator, cp_id, version):
    async def case(cp):
        return await operator.command(
            cp, "GetLocalListVersion", {}, answer={"listVersion": version}
        )

    assert play(case) == {"listVersion": version}
    assert ChargePoint.objects.get(pk=cp_id).local_list_version == version
