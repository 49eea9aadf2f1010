"""TC_080_CSMS Secure Firmware Update and TC_081_CSMS … - Invalid Signature (OCTT 1.6
§3.24.3): SignedUpdateFirmware followed as a job through the SignedFirmwareStatusNotifications
(and the reboot's BootNotification, FirmwareUpdated security event and statuses)."""

from __future__ import annotations

from ocpp.v16 import call

from charging.models import ChargerJob, SecurityEvent

from .harness import CONNECTOR, ocpp_time

FIRMWARE = {
    "location": "https://firmware.example.com/fw-2.0.bin",  # <Configured Firmware Download URL>
    "retrieveDateTime": "2026-12-01T00:00:00Z",
    "signingCertificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "signature": "c2lnbmF0dXJl",  # <Configured signature>
}


async def _signed_update(operator, cp, cp_id: str) -> int:
    """Steps 1-2: the operator's SignedUpdateFirmware (the requestId is the job's), Accepted."""
    outcome = await operator.call(cp_id, "SignedUpdateFirmware", {"firmware": FIRMWARE})
    received = await cp.expect("SignedUpdateFirmware")
    assert received.payload["firmware"] == FIRMWARE
    assert outcome["response"] == {"status": "Accepted"}
    return received.payload["requestId"]


async def _notify(cp, request_id: int, *statuses: str) -> None:
    for status in statuses:
        await cp.send(call.SignedFirmwareStatusNotification(status=status, request_id=request_id))


def test_tc_080_secure_firmware_update(play, operator, cp_id):
    async def case(cp):
        request_id = await _signed_update(operator, cp, cp_id)
        await cp.status(CONNECTOR, "Unavailable")  # after step 2, before step 9
        await _notify(cp, request_id, "Downloading", "Downloaded", "SignatureVerified")
        await _notify(cp, request_id, "Installing", "InstallRebooting")  # steps 9-12
        assert (await cp.boot()).status == "Accepted"  # steps 13-14
        await cp.send(
            call.SecurityEventNotification(
                type="FirmwareUpdated", timestamp=ocpp_time(), tech_info="2.0"
            )
        )  # steps 15-16
        await cp.status(CONNECTOR, "Available")  # steps 17-18
        await _notify(cp, request_id, "Installed")  # steps 19-20
        return request_id

    request_id = play(case)
    job = ChargerJob.objects.get(charge_point_id=cp_id, kind="signed_firmware")
    assert (job.request_id, job.status, job.finished, job.location) == (
        request_id,
        "Installed",
        True,
        FIRMWARE["location"],
    )
    assert [step["status"] for step in job.history] == [
        "Requested",
        "Accepted",
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "Installing",
        "InstallRebooting",
        "Installed",
    ]
    event = SecurityEvent.objects.get(charge_point_id=cp_id)
    assert (event.type, event.critical) == ("FirmwareUpdated", True)


def test_tc_081_secure_firmware_update_invalid_signature(play, operator, cp_id):
    async def case(cp):
        request_id = await _signed_update(operator, cp, cp_id)
        await _notify(cp, request_id, "Downloading", "Downloaded", "InvalidSignature")  # 3-8
        return request_id

    request_id = play(case)
    job = ChargerJob.objects.get(charge_point_id=cp_id, request_id=request_id)
    assert (job.status, job.finished) == ("InvalidSignature", True)
