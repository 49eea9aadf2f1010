"""Firmware, diagnostics and log jobs: made by our requests, moved by the charger's answers and
status notifications, one running per kind."""

from __future__ import annotations

import pytest

from charging import commands, services
from charging.dispatch import handle_inbound
from charging.models import ChargerJob
from tests.factories import call, make_charge_point, sent

pytestmark = pytest.mark.django_db

FIRMWARE = {"location": "https://example.com/fw-2.bin", "retrieveDate": "2026-12-01T10:00:00Z"}


def _answer(outbound, response):
    services.outbound_call_complete(call=outbound, status="answered", response=response)


def _notify(unique_id, action, payload):
    assert sent(handle_inbound(call(unique_id, action, payload))) == [3, unique_id, {}]


def test_a_firmware_update_goes_from_requested_to_installed():
    make_charge_point("CP-1")
    outbound = commands.send("CP-1", "UpdateFirmware", FIRMWARE)
    job = ChargerJob.objects.get()
    assert (job.kind, job.status, job.call, job.location) == (
        "firmware",
        "Requested",
        outbound,
        FIRMWARE["location"],
    )
    _answer(outbound, {})
    for n, status in enumerate(["Downloading", "Downloaded", "Installing", "Installed"]):
        _notify(f"f{n}", "FirmwareStatusNotification", {"status": status})
    job.refresh_from_db()
    assert job.finished and job.status == "Installed"
    assert [step["status"] for step in job.history] == [
        "Requested",
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    # Idle afterwards (e.g. triggered) changes nothing.
    _notify("f9", "FirmwareStatusNotification", {"status": "Idle"})
    job.refresh_from_db()
    assert job.status == "Installed"


def test_a_new_request_supersedes_the_running_one_and_failures_finish():
    make_charge_point("CP-1")
    first = commands.send("CP-1", "UpdateFirmware", FIRMWARE)
    _answer(first, {})
    second = commands.send("CP-1", "UpdateFirmware", FIRMWARE)
    _answer(second, {})
    _notify("f1", "FirmwareStatusNotification", {"status": "DownloadFailed"})
    old, new = ChargerJob.objects.order_by("id")
    assert (old.status, old.finished) == ("Superseded", True)
    assert (new.status, new.finished, new.call) == ("DownloadFailed", True, second)


def test_diagnostics_without_a_file_are_over_at_once():
    make_charge_point("CP-1")
    outbound = commands.send("CP-1", "GetDiagnostics", {"location": "ftp://example.com/"})
    _answer(outbound, {})
    job = ChargerJob.objects.get()
    assert (job.kind, job.status, job.finished) == ("diagnostics", "NoDiagnostics", True)
    outbound = commands.send("CP-1", "GetDiagnostics", {"location": "ftp://example.com/"})
    _answer(outbound, {"fileName": "diag.zip"})
    _notify("d1", "DiagnosticsStatusNotification", {"status": "Uploading"})
    _notify("d2", "DiagnosticsStatusNotification", {"status": "Uploaded"})
    job = ChargerJob.objects.get(call=outbound)
    assert (job.file_name, job.status, job.finished) == ("diag.zip", "Uploaded", True)


def test_a_get_log_without_request_id_gets_the_jobs_and_is_followed_by_it():
    make_charge_point("CP-1")
    payload = {"logType": "SecurityLog", "log": {"remoteLocation": "https://example.com/logs"}}
    outbound = commands.send("CP-1", "GetLog", payload)
    job = ChargerJob.objects.get()
    assert outbound.payload["requestId"] == job.pk == job.request_id
    assert job.location == "https://example.com/logs"
    _answer(outbound, {"status": "Accepted", "filename": "security.log"})
    _notify("l1", "LogStatusNotification", {"status": "Uploading", "requestId": job.pk})
    _notify("l2", "LogStatusNotification", {"status": "Uploaded", "requestId": job.pk})
    job.refresh_from_db()
    assert (job.status, job.finished, job.file_name) == ("Uploaded", True, "security.log")
    # Another requestId's notification does not touch it.
    _notify("l3", "LogStatusNotification", {"status": "Uploading", "requestId": 999})
    job.refresh_from_db()
    assert job.status == "Uploaded"


def test_a_rejected_signed_update_is_over_and_an_explicit_request_id_is_kept():
    make_charge_point("CP-1")
    firmware = {
        "location": "https://example.com/fw.bin",
        "retrieveDateTime": "2026-12-01T10:00:00Z",
        "signingCertificate": "-----BEGIN CERTIFICATE-----",
        "signature": "c2ln",
    }
    outbound = commands.send(
        "CP-1", "SignedUpdateFirmware", {"requestId": 77, "firmware": firmware}
    )
    _answer(outbound, {"status": "InvalidCertificate"})
    job = ChargerJob.objects.get()
    assert (job.request_id, job.status, job.finished) == (77, "InvalidCertificate", True)
