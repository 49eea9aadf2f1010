"""Admin of smart charging: our view of the charging profiles sent to chargers, and their
composite schedules as charts; profiles are set and cleared with the charge points' actions."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from ..models import ChargingProfile, Connector
from ..reports.charts import schedule_chart_svg
from .actions import CommandPermissionMixin, _send_for_each
from .base import ReadOnlyAdmin, ReadOnlyInline, _change_link, _moment


def composite_schedule_html(connector: Connector) -> SafeString | str:
    """The connector's last composite schedule (GetCompositeSchedule.conf) as a chart, with the
    request it answered."""
    answer = connector.composite_schedule
    if not isinstance(answer, dict):
        return "-"
    schedule = answer.get("chargingSchedule") or {}
    request = connector.composite_schedule_request or {}
    duration = schedule.get("duration") or request.get("duration")
    unit = schedule.get("chargingRateUnit") or request.get("chargingRateUnit") or "?"
    at = connector.composite_schedule_at
    caption = format_html(
        "<p>Connector {}: asked for {} s in {} at {}; schedule starts {}</p>",
        connector.connector_id,
        request.get("duration", "?"),
        request.get("chargingRateUnit", "the charger's unit"),
        _moment(at) if at else "?",
        answer.get("scheduleStart") or schedule.get("startSchedule") or "-",
    )
    chart = schedule_chart_svg(
        periods=schedule.get("chargingSchedulePeriod") or [],
        unit=unit,
        duration=duration,
        title=f"Composite schedule of connector {connector.connector_id} ({unit})",
    )
    return format_html("{}{}", caption, chart)


def composite_schedules_html(connectors: list[Connector]) -> SafeString | str:
    shown = [c for c in connectors if c.composite_schedule]
    if not shown:
        return "None yet: send Get composite schedule…"
    return format_html_join("", "<div>{}</div>", ((composite_schedule_html(c),) for c in shown))


def _limits(profile: ChargingProfile) -> str:
    periods = profile.schedule_periods if isinstance(profile.schedule_periods, list) else []
    return ", ".join(
        f"{p.get('startPeriod')} s: {p.get('limit')} {profile.charging_rate_unit}"
        for p in periods
        if isinstance(p, dict)
    )


COLUMNS = ("connector_id", "purpose", "stack_level", "kind", "limits", "transaction", "status")


class ChargingProfileInline(ReadOnlyInline):
    """The profiles a charge point holds as far as we know (requested, installed,
    unconfirmed); the history is under Charging profiles."""

    model = ChargingProfile
    fk_name = "charge_point"
    fields = ("profile_link", *COLUMNS, "updated_at")
    readonly_fields = fields
    verbose_name_plural = "charging profiles held (requested, installed or unconfirmed)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChargingProfile]:
        held = super().get_queryset(request).filter(status__in=ChargingProfile.LIVE_STATUSES)
        return held.select_related("transaction")

    @admin.display(description="chargingProfileId")
    def profile_link(self, profile: ChargingProfile) -> SafeString:
        return _change_link(profile, profile.charging_profile_id)

    @admin.display(description="limits")
    def limits(self, profile: ChargingProfile) -> str:
        return _limits(profile)


@admin.register(ChargingProfile)
class ChargingProfileAdmin(CommandPermissionMixin, ReadOnlyAdmin):
    actions = ["clear_on_charger"]
    list_display = ("charging_profile_id", "charge_point", *COLUMNS, "answer", "updated_at")
    list_filter = ("purpose", "status", "kind")
    search_fields = ("=charging_profile_id", "charge_point__id")
    list_select_related = ("charge_point", "transaction")
    readonly_fields = (
        *(field.name for field in ChargingProfile._meta.fields),
        "limits",
        "schedule_chart",
    )

    @admin.display(description="limits")
    def limits(self, profile: ChargingProfile) -> str:
        return _limits(profile)

    @admin.display(description="schedule")
    def schedule_chart(self, profile: ChargingProfile) -> SafeString:
        return schedule_chart_svg(
            periods=profile.schedule_periods or [],
            unit=profile.charging_rate_unit,
            duration=profile.duration,
        )

    @admin.action(
        description="Clear on the charger (ClearChargingProfile by id)", permissions=["command"]
    )
    def clear_on_charger(self, request: HttpRequest, queryset: QuerySet[ChargingProfile]) -> None:
        _send_for_each(
            request,
            queryset,
            action="ClearChargingProfile",
            payload=lambda profile: {"id": profile.charging_profile_id},
            refusal=lambda profile: (
                None
                if profile.status in ChargingProfile.LIVE_STATUSES
                else f"{profile}: not held, nothing to clear"
            ),
        )
