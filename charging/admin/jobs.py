"""Admin of firmware, diagnostics and log jobs: where each stands and how it got there; they
are started with the charge points' *Update firmware…* and *Get diagnostics…* actions."""

from __future__ import annotations

from django.contrib import admin
from django.utils.safestring import SafeString

from ..models import ChargerJob
from .base import STATUS_COLOURS, ReadOnlyAdmin, _badge, _table

FAILED_COLOUR = "#ba2121"
DONE_COLOUR = "#2e7d32"
RUNNING_COLOUR = "#1565c0"


@admin.register(ChargerJob)
class ChargerJobAdmin(ReadOnlyAdmin):
    list_display = ("id", "charge_point", "kind", "status_badge", "location", "updated_at")
    list_filter = ("kind", "finished")
    search_fields = ("=charge_point__id", "location", "=request_id")
    list_select_related = ("charge_point",)
    readonly_fields = (
        *(field.name for field in ChargerJob._meta.fields if field.name != "history"),
        "history_table",
    )

    @admin.display(description="status", ordering="status")
    def status_badge(self, job: ChargerJob) -> SafeString:
        if not job.finished:
            colour = RUNNING_COLOUR
        elif job.status in ("Installed", "Uploaded"):
            colour = DONE_COLOUR
        else:
            colour = STATUS_COLOURS.get(job.status, FAILED_COLOUR)
        return _badge(job.status, colour)

    @admin.display(description="history")
    def history_table(self, job: ChargerJob) -> SafeString:
        return _table(["status", "at"], [(step["status"], step["at"]) for step in job.history])
