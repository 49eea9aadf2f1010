"""TC_045_1_CSMS Get Diagnostics and TC_045_2_CSMS Get Diagnostics - Upload Failed (OCTT 1.6
§3.16.1, §3.16.2): the operator's GetDiagnostics and the charge point's
DiagnosticsStatusNotifications, whose last status the Central System keeps."""

from __future__ import annotations

import pytest
from ocpp.v16 import call

from charging.models import ChargePoint

UPLOAD_URL = "ftp://diagnostics.example.com/octt/"


@pytest.mark.parametrize("outcome", ["Uploaded", "UploadFailed"], ids=["tc_045_1", "tc_045_2"])
def test_tc_045_get_diagnostics(play, operator, cp_id, outcome):
    async def case(cp):
        answer = await operator.command(  # steps 1-2
            cp,
            "GetDiagnostics",
            {"location": UPLOAD_URL},
            answer={"fileName": "octt-diagnostics.zip"},
        )
        for status in ("Uploading", outcome):  # steps 3 and 5
            assert await cp.send(call.DiagnosticsStatusNotification(status=status)) is not None
        return answer

    assert play(case) == {"fileName": "octt-diagnostics.zip"}
    point = ChargePoint.objects.get(pk=cp_id)
    assert point.diagnostics_status == outcome and point.diagnostics_status_at is not None
