"""Firmware, diagnostics and log jobs of charge points: made from our requests and the
charger's answers, moved on by its status notifications (OCPP 1.6 §4.4, §4.5, §5.8, §5.19;
security extension: GetLog / LogStatusNotification, SignedUpdateFirmware /
SignedFirmwareStatusNotification)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..models import ChargePoint, ChargerJob, JobKind, OutboundCall
from .messages import clean_text

# The request each kind of job starts with, and the payload field naming its location.
JOB_REQUESTS: dict[str, tuple[JobKind, str]] = {
    "UpdateFirmware": (JobKind.FIRMWARE, "location"),
    "GetDiagnostics": (JobKind.DIAGNOSTICS, "location"),
    "SignedUpdateFirmware": (JobKind.SIGNED_FIRMWARE, "firmware.location"),
    "GetLog": (JobKind.LOG, "log.remoteLocation"),
}
# Statuses after which a job is over.
FINAL_STATUSES: dict[str, frozenset[str]] = {
    JobKind.FIRMWARE: frozenset({"Installed", "DownloadFailed", "InstallationFailed"}),
    JobKind.DIAGNOSTICS: frozenset({"Uploaded", "UploadFailed"}),
    JobKind.SIGNED_FIRMWARE: frozenset(
        {
            "Installed",
            "DownloadFailed",
            "InstallationFailed",
            "InstallVerificationFailed",
            "InvalidSignature",
            # SignedUpdateFirmware.conf statuses that start nothing
            "Rejected",
            "InvalidCertificate",
            "RevokedCertificate",
        }
    ),
    JobKind.LOG: frozenset(
        {"Uploaded", "UploadFailure", "BadMessage", "NotSupportedOperation", "PermissionDenied"}
        | {"Rejected"}  # GetLog.conf
    ),
}
# The status notification of each kind.
NOTIFICATIONS: dict[str, JobKind] = {
    "FirmwareStatusNotification": JobKind.FIRMWARE,
    "DiagnosticsStatusNotification": JobKind.DIAGNOSTICS,
    "SignedFirmwareStatusNotification": JobKind.SIGNED_FIRMWARE,
    "LogStatusNotification": JobKind.LOG,
}
SUPERSEDED = "Superseded"


def _location(payload: dict[str, Any], path: str) -> str:
    value: Any = payload
    for name in path.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return clean_text(value if isinstance(value, str) else "")[:512]


def _move(job: ChargerJob, status: str, at: datetime) -> None:
    job.status = clean_text(status)[:32]
    job.history = [*job.history, {"status": job.status, "at": at.isoformat()}]
    job.finished = job.finished or job.status in FINAL_STATUSES[job.kind]
    job.updated_at = at


def job_create(*, charge_point: ChargePoint, action: str, payload: dict[str, Any]) -> ChargerJob:
    """A `Requested` job for a request about to be sent; its primary key can be the requestId."""
    kind, location = JOB_REQUESTS[action]
    now = timezone.now()
    job = ChargerJob(charge_point=charge_point, kind=kind, location=_location(payload, location))
    _move(job, "Requested", now)
    job.save()
    return job


def job_answered(*, call: OutboundCall, response: dict[str, Any]) -> ChargerJob:
    """The charger answered the request: the job (made when it was sent, or now) takes the
    answer's status, or stays `Requested` for the Core requests whose answer has none; older
    unfinished jobs of the kind are over (a charger runs one at a time)."""
    kind, location = JOB_REQUESTS[call.action]
    at = call.answered_at or timezone.now()
    with transaction.atomic():
        job = ChargerJob.objects.select_for_update().filter(call=call).first()
        request_id = call.payload.get("requestId")
        if job is None and isinstance(request_id, int):
            job = ChargerJob.objects.filter(
                charge_point=call.charge_point, kind=kind, request_id=request_id, finished=False
            ).first()
        if job is None:
            job = job_create(
                charge_point=call.charge_point, action=call.action, payload=call.payload
            )
        job.call = call
        job.request_id = request_id if isinstance(request_id, int) else job.request_id
        job.location = job.location or _location(call.payload, location)
        job.file_name = clean_text(response.get("fileName") or response.get("filename") or "")[:255]
        status = response.get("status")
        if isinstance(status, str):
            _move(job, status, at)
        elif call.action == "GetDiagnostics" and not job.file_name:
            _move(job, "NoDiagnostics", at)  # §5.8: no fileName, nothing will be uploaded
            job.finished = True
        job.save()
        for older in ChargerJob.objects.filter(
            charge_point=call.charge_point, kind=kind, finished=False
        ).exclude(pk=job.pk):
            _move(older, SUPERSEDED, at)
            older.finished = True
            older.save()
    return job


def job_status_notified(
    *,
    charge_point: ChargePoint,
    action: str,
    status: str,
    request_id: int | None = None,
    at: datetime | None = None,
) -> ChargerJob | None:
    """A status notification moves the job it is about: the one with its requestId, else (Core
    notifications carry none) the charger's unfinished job of the kind. None: no such job (a
    notification the charger sent by itself, or triggered)."""
    kind = NOTIFICATIONS[action]
    jobs = ChargerJob.objects.select_for_update().filter(charge_point=charge_point, kind=kind)
    if request_id is not None:
        job = jobs.filter(request_id=request_id).order_by("-id").first()
    else:
        job = jobs.filter(finished=False).order_by("-id").first()
    if job is None or (job.finished and status == "Idle"):
        return None
    if job.history and job.history[-1]["status"] == clean_text(status)[:32]:
        return job  # the same notification again (a new unique id after a lost answer)
    _move(job, status, at or timezone.now())
    job.save()
    return job
