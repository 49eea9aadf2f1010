"""TC_079_CSMS Get Security Log (OCTT 1.6 §3.24.2): GetLog for the security log, followed as a
job through the charge point's LogStatusNotifications."""

from __future__ import annotations

from ocpp.v16 import call

from charging.models import ChargerJob

LOG_LOCATION = "https://logs.example.com/upload"  # <Configured log location>


def test_tc_079_get_security_log(play, operator, cp_id):
    async def case(cp):
        cp.answer("GetLog", {"status": "Accepted", "filename": "security.log"})
        payload = {"logType": "SecurityLog", "log": {"remoteLocation": LOG_LOCATION}}
        outcome = await operator.call(cp_id, "GetLog", payload)  # step 1, no requestId: ours
        received = await cp.expect("GetLog")
        assert received.payload["logType"] == "SecurityLog"
        assert received.payload["log"] == {"remoteLocation": LOG_LOCATION}
        assert outcome["response"]["status"] == "Accepted"  # step 2
        request_id = received.payload["requestId"]
        for status in ("Uploading", "Uploaded"):  # steps 3-6
            await cp.send(call.LogStatusNotification(status=status, request_id=request_id))
        return request_id

    request_id = play(case)
    job = ChargerJob.objects.get(charge_point_id=cp_id, kind="log")
    assert (job.request_id, job.status, job.finished, job.location) == (
        request_id,
        "Uploaded",
        True,
        LOG_LOCATION,
    )
    assert [step["status"] for step in job.history] == [
        "Requested",
        "Accepted",
        "Uploading",
        "Uploaded",
    ]
