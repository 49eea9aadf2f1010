"""TC_044_1_CSMS Firmware Update - Download and Install, TC_044_2_CSMS … - Download Failed and
TC_044_3_CSMS … - Installation Failed (OCTT 1.6 §3.15.1–§3.15.3): the operator's UpdateFirmware
and the charge point's FirmwareStatusNotifications, whose last status the Central System keeps."""

from __future__ import annotations

import pytest
from ocpp.v16 import call

from charging.models import ChargePoint

from .harness import ocpp_time

FIRMWARE_URL = "https://firmware.example.com/octt/2.0.0.bin"  # <Firmware Download URL>


async def update_firmware(cp, operator):
    """Steps 1-4: UpdateFirmware with the download URL, and [the download starts]."""
    retrieve = ocpp_time()
    await operator.command(
        cp, "UpdateFirmware", {"location": FIRMWARE_URL, "retrieveDate": retrieve}, answer={}
    )
    await firmware_status(cp, "Downloading")


async def firmware_status(cp, status):
    assert await cp.send(call.FirmwareStatusNotification(status=status)) is not None


@pytest.mark.parametrize(
    "outcome", ["Installed", "InstallationFailed"], ids=["tc_044_1", "tc_044_3"]
)
def test_tc_044_firmware_update_installs(play, operator, cp_id, outcome):
    async def case(cp):
        await update_firmware(cp, operator)
        await firmware_status(cp, "Downloaded")  # step 5
        await cp.statuses("Unavailable")  # step 7: all connectors
        await firmware_status(cp, "Installing")  # step 9
        version = "2.0.0" if outcome == "Installed" else "1.0.0"
        async with cp.reboot(firmware_version=version) as again:  # steps 11-12
            await again.statuses("Available")  # step 13
            await firmware_status(again, outcome)  # step 15

    play(case)
    point = ChargePoint.objects.get(pk=cp_id)
    assert point.firmware_status == outcome and point.firmware_status_at is not None
    assert point.firmware_version == ("2.0.0" if outcome == "Installed" else "1.0.0")


def test_tc_044_2_download_failed(play, operator, cp_id):
    async def case(cp):
        await update_firmware(cp, operator)
        await firmware_status(cp, "DownloadFailed")  # step 5

    play(case)
    assert ChargePoint.objects.get(pk=cp_id).firmware_status == "DownloadFailed"
