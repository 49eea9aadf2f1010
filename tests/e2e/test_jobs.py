"""A firmware job through the whole stack: UpdateFirmware answered, then the charger's
status notifications move it to Installed."""

from __future__ import annotations

import asyncio

import pytest
from ocpp.v16 import call as ocpp_call

from charging import commands
from charging.models import ChargerJob
from levity.devstack import charger

from .test_commands import WAIT, _connected, in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db")]


def test_firmware_update_job(stack):
    cp_id = "E2E-FIRMWARE"

    async def scenario() -> None:
        async with charger(stack.port, cp_id) as cp:
            await in_thread(_connected, cp_id)
            await in_thread(
                commands.update_firmware,
                cp_id,
                location="https://example.com/fw-3.bin",
                retrieve_date="2026-12-01T10:00:00Z",
                wait=WAIT,
            )
            for status in ("Downloading", "Downloaded", "Installing", "Installed"):
                await cp.call(ocpp_call.FirmwareStatusNotification(status=status))

    asyncio.run(scenario())
    job = ChargerJob.objects.get(charge_point_id=cp_id)
    assert (job.kind, job.status, job.finished, job.location) == (
        "firmware",
        "Installed",
        True,
        "https://example.com/fw-3.bin",
    )
    assert [step["status"] for step in job.history] == [
        "Requested",
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    assert job.call.status == "answered"
