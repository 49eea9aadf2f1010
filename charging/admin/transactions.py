"""Admin of transactions and meter values."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .. import selectors
from ..models import MeterValue, Transaction
from ..reports import charts, energy, export
from .actions import CommandPermissionMixin, _send_command
from .base import STATUS_COLOURS, ReadOnlyAdmin, _badge, _moment, _table

# --- transactions ---------------------------------------------------------------------------


class ActiveFilter(admin.SimpleListFilter):
    title = "active"
    parameter_name = "active"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Active"), ("no", "Stopped")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(stop_received_at__isnull=self.value() == "yes")
        return queryset


@admin.register(Transaction)
class TransactionAdmin(CommandPermissionMixin, ReadOnlyAdmin):
    actions = ["remote_stop", "export_csv"]

    # What an operator scans, fitting 1,400 px beside the admin's menus; the stop time, the
    # duration, meter readings and the rest are on the transaction's page.
    list_display = ("id", "charge_point_connector", "id_tag", "started", "energy_kwh", "state")
    list_filter = (ActiveFilter, "stop_reason", "closed_as_orphan")
    search_fields = ("=id", "charge_point__id", "id_tag")
    list_select_related = ("charge_point",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("charge_point", "connector_id"),
                    ("id_tag", "id_tag_status", "reservation_id"),
                    ("meter_start", "meter_stop", "energy_kwh"),
                    ("started_at", "start_received_at"),
                    ("stopped_at", "stop_received_at"),
                    "duration_display",
                    ("stop_reason", "stop_id_tag", "orphan"),
                    "notes",
                )
            },
        ),
        ("Energy and power", {"fields": ("energy_chart",)}),
        ("Meter values", {"classes": ("collapse",), "fields": ("meter_value_table",)}),
    )
    readonly_fields = (
        "energy_kwh",
        "duration_display",
        "orphan",
        "energy_chart",
        "meter_value_table",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transaction]:
        return selectors.transaction_list_with_energy()

    @admin.display(description="energy kWh", ordering="energy_wh")
    def energy_kwh(self, transaction: Transaction) -> str:
        return export.format_kwh(getattr(transaction, "energy_wh", None)) or "-"

    @admin.display(description="duration", ordering="duration")
    def duration_display(self, transaction: Transaction) -> str:
        return export.format_duration(getattr(transaction, "duration", None)) or "-"

    @admin.display(description="closed as orphan")
    def orphan(self, transaction: Transaction) -> str:
        # Text, not the boolean icon: a red ✗ beside every normal transaction reads as an error.
        if transaction.closed_as_orphan:
            return "yes: stopped by the server because a newer one started"
        return "no"

    @admin.display(description="charge point / connector", ordering="charge_point_id")
    def charge_point_connector(self, transaction: Transaction) -> str:
        return f"{transaction.charge_point_id} / {transaction.connector_id}"

    @admin.display(description="started at", ordering="started_at")
    def started(self, transaction: Transaction) -> SafeString | str:
        # The day above the time: the list keeps its columns in view at 1,400 px.
        if transaction.started_at is None:
            return "-"
        day, _, time = _moment(transaction.started_at).partition(" ")
        return format_html('<span style="white-space:nowrap">{}</span><br>{}', day, time)

    @admin.display(description="state", ordering="stop_received_at")
    def state(self, transaction: Transaction) -> SafeString | str:
        if transaction.is_open:
            return _badge("active", STATUS_COLOURS["Charging"])
        return f"stopped ({transaction.stop_reason})" if transaction.stop_reason else "stopped"

    @admin.display(description="chart")
    def energy_chart(self, transaction: Transaction) -> SafeString:
        series = energy.transaction_series(transaction=transaction)
        chart = charts.transaction_chart_svg(
            energy_kwh=series.energy_kwh,
            power_kw=series.power_kw,
            jumps_at=[s.timestamp for s in series.jumps if s.timestamp is not None],
            zone=timezone.get_current_timezone(),
        )
        notes = []
        if series.power_from_energy and series.power_kw:
            notes.append("Power derived from energy readings (no Power.Active.Import samples).")
        if series.jumps:
            notes.append(f"{len(series.jumps)} energy jump(s) flagged and left out.")
        if series.untimed:
            notes.append(f"{series.untimed} sample(s) without a charger timestamp not drawn.")
        return format_html(
            '{}<p class="help">Charger\'s clock, shown in {}. {}</p>',
            chart,
            timezone.get_current_timezone_name(),
            " ".join(notes),
        )

    @admin.display(description="samples")
    def meter_value_table(self, transaction: Transaction) -> SafeString:
        rows = [
            (
                _moment(mv.timestamp) if mv.timestamp else "-",
                mv.measurand,
                mv.phase,
                f"{mv.value} {mv.unit}",
                mv.context,
                _badge("jump: left out", STATUS_COLOURS["Faulted"]) if mv.energy_jump else "",
            )
            for mv in selectors.meter_value_list(transaction=transaction)
        ]
        return _table(["timestamp", "measurand", "phase", "value", "context", ""], rows)

    @admin.action(description="Remote stop", permissions=["command"])
    def remote_stop(self, request: HttpRequest, queryset: QuerySet[Transaction]) -> None:
        for transaction in queryset.order_by("id"):
            if not transaction.is_open:
                messages.warning(request, f"Transaction {transaction.id} is already stopped")
                continue
            _send_command(
                request,
                charge_point_id=transaction.charge_point_id,
                action="RemoteStopTransaction",
                payload={"transactionId": transaction.id},
            )

    @admin.action(description="Export as CSV", permissions=["view"])
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Transaction]
    ) -> StreamingHttpResponse:
        rows = selectors.transaction_list_with_energy().filter(pk__in=queryset.values("pk"))
        zone = timezone.get_current_timezone()
        response = StreamingHttpResponse(
            export.csv_lines(
                export.transaction_rows(rows.order_by("start_received_at", "id"), zone=zone)
            ),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="transactions.csv"'
        return response


@admin.register(MeterValue)
class MeterValueAdmin(ReadOnlyAdmin):
    list_display = (
        "charge_point",
        "connector_id",
        "transaction",
        "timestamp",
        "measurand",
        "phase",
        "value",
        "unit",
        "energy_jump",
    )
    list_filter = ("energy_jump", "measurand", "context")
    search_fields = ("charge_point__id", "=transaction__id")
    list_select_related = ("charge_point", "transaction")
