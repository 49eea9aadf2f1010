"""Admin: id tags are edited here; what chargers report is shown read-only; commands go to chargers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from . import admission, commands, forms, selectors
from .models import (
    ChargePoint,
    ConfigurationKey,
    ConnectionEvent,
    Connector,
    IdTag,
    Message,
    MeterValue,
    OutboundCall,
    Transaction,
)
from .reports import charts, energy, export

# The project's admin index links the dashboard (charging/templates/admin/charging/index.html).
admin.site.index_template = "admin/charging/index.html"

RECENT_ROWS = 20  # messages and connection events shown on a charge point's page


class ReadOnlyAdmin(admin.ModelAdmin):
    """Charger-owned data: viewable, never added, edited or deleted by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# --- small HTML pieces ------------------------------------------------------------------------

STATUS_COLOURS = {
    "Available": "#2e7d32",
    "Preparing": "#b26a00",
    "Charging": "#1565c0",
    "SuspendedEV": "#b26a00",
    "SuspendedEVSE": "#b26a00",
    "Finishing": "#b26a00",
    "Reserved": "#6a1b9a",
    "Unavailable": "#616161",
    "Faulted": "#ba2121",
}


def _badge(text: str, colour: str, title: str = "") -> SafeString:
    return format_html(
        '<span title="{}" style="display:inline-block;padding:1px 6px;margin:1px 2px;'
        'border-radius:8px;color:#fff;background:{};font-size:11px;white-space:nowrap">{}</span>',
        title,
        colour,
        text,
    )


def _relative(moment: datetime | None) -> SafeString | str:
    if moment is None:
        return "-"
    return format_html(
        '<span title="{}">{} ago</span>',
        timezone.localtime(moment).isoformat(timespec="seconds"),
        timesince(moment).split(",")[0],
    )


def _json_block(value: Any) -> SafeString | str:
    if value is None:
        return "-"
    return format_html(
        '<pre style="white-space:pre-wrap;margin:0">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False),
    )


def _table(headers: list[str], rows: list[tuple[Any, ...]], empty: str = "None") -> SafeString:
    if not rows:
        return format_html("<p>{}</p>", empty)
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def _change_link(obj: Any, text: Any) -> SafeString:
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text)


# Seconds an admin request waits for a charger's answer; a later answer shows in Outbound calls.
ADMIN_COMMAND_WAIT = 15.0
_GOOD_STATUSES = {"Accepted", "Unlocked"}


def _send_command(
    request: HttpRequest, *, charge_point_id: str, action: str, payload: dict[str, Any]
) -> None:
    """Send one CALL, wait briefly, and report the charger's answer (or why none) as a message."""
    try:
        response = commands.call(
            charge_point_id,
            action,
            payload,
            wait=ADMIN_COMMAND_WAIT,
            requested_by=request.user.get_username(),
        )
    except commands.InvalidCommand as exc:
        text = f"{charge_point_id}: {action} not sent, invalid: {exc.code} {exc.details or exc}"
        messages.error(request, text)
    except commands.ChargePointOffline:
        messages.error(request, f"{charge_point_id}: {action} failed: not connected")
    except commands.CallTimeout:
        messages.error(
            request,
            f"{charge_point_id}: {action}: no answer within {ADMIN_COMMAND_WAIT:g} s "
            "(a later answer shows in Outbound calls)",
        )
    except commands.CallError as exc:
        messages.error(
            request,
            f"{charge_point_id}: {action}: the charge point answered CALLERROR "
            f"{exc.code}: {exc.description}",
        )
    except commands.CommandError as exc:
        messages.error(request, f"{charge_point_id}: {action} failed: {exc}")
    else:
        status = response.get("status") if isinstance(response, dict) else None
        level = messages.SUCCESS if status is None or status in _GOOD_STATUSES else messages.WARNING
        messages.add_message(
            request, level, f"{charge_point_id}: {action} → {json.dumps(response, sort_keys=True)}"
        )


def _command_action(
    name: str,
    *,
    action: str,
    description: str,
    payload: dict[str, Any] | None = None,
    form_class: type[forms.CommandForm] | None = None,
) -> Callable[[admin.ModelAdmin, HttpRequest, QuerySet], HttpResponse | None]:
    """An admin action sending `action` to each selected charge point; a form asks for parameters."""

    def run(
        modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ChargePoint]
    ) -> HttpResponse | None:
        body = payload or {}
        if form_class is not None:
            form = form_class(request.POST if "apply" in request.POST else None)
            if not form.is_valid():
                return TemplateResponse(
                    request,
                    "admin/charging/command_form.html",
                    {
                        **modeladmin.admin_site.each_context(request),
                        "title": description,
                        "opts": modeladmin.model._meta,
                        "form": form,
                        "ocpp_action": action,
                        "admin_action": name,
                        "queryset": queryset,
                        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                        # Sent from a charge point's page: go back there afterwards.
                        "from_change": request.POST.get("_from_change", ""),
                    },
                )
            body = form.payload()
        for charge_point in queryset.order_by("id"):
            _send_command(request, charge_point_id=charge_point.id, action=action, payload=body)
        return None

    run.__name__ = name
    return admin.action(description=description, permissions=["command"])(run)


class CommandPermissionMixin:
    def has_command_permission(self, request: HttpRequest) -> bool:
        # Commanding a charger is changing it; ReadOnlyAdmin's change rule is about hand edits.
        return request.user.has_perm("charging.change_chargepoint")


COMMAND_ACTIONS = [
    _command_action(
        "reset_soft", action="Reset", description="Reset (soft)", payload={"type": "Soft"}
    ),
    _command_action(
        "reset_hard", action="Reset", description="Reset (hard)", payload={"type": "Hard"}
    ),
    _command_action(
        "change_availability",
        action="ChangeAvailability",
        description="Change availability…",
        form_class=forms.ChangeAvailabilityForm,
    ),
    _command_action(
        "unlock_connector",
        action="UnlockConnector",
        description="Unlock connector…",
        form_class=forms.UnlockConnectorForm,
    ),
    _command_action("clear_cache", action="ClearCache", description="Clear cache"),
    _command_action(
        "trigger_message",
        action="TriggerMessage",
        description="Trigger message…",
        form_class=forms.TriggerMessageForm,
    ),
    _command_action(
        "get_configuration",
        action="GetConfiguration",
        description="Get configuration…",
        form_class=forms.GetConfigurationForm,
    ),
    _command_action(
        "change_configuration",
        action="ChangeConfiguration",
        description="Change configuration…",
        form_class=forms.ChangeConfigurationForm,
    ),
    _command_action(
        "remote_start",
        action="RemoteStartTransaction",
        description="Remote start…",
        form_class=forms.RemoteStartForm,
    ),
]


# --- admission: approval and authorization keys ----------------------------------------------


@admin.action(description="Approve (BootNotification Accepted)", permissions=["command"])
def approve(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ChargePoint]
) -> None:
    for charge_point in queryset.order_by("id"):
        admission.charge_point_approve(charge_point=charge_point, approved=True)
        note = ""
        if charge_point.connected and charge_point.registration_status != "Accepted":
            # Rather than wait for its next boot after OCPP_PENDING_INTERVAL (OCPP 1.6 §5.17).
            try:
                commands.send(
                    charge_point.id,
                    "TriggerMessage",
                    {"requestedMessage": "BootNotification"},
                    requested_by=request.user.get_username(),
                )
                note = "; asked it to boot again (TriggerMessage)"
            except commands.CommandError:
                note = "; it is accepted at its next BootNotification"
        messages.success(request, f"{charge_point.id}: approved{note}")


@admin.action(description="Withdraw approval (BootNotification Pending)", permissions=["command"])
def withdraw_approval(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ChargePoint]
) -> None:
    for charge_point in queryset.order_by("id"):
        admission.charge_point_approve(charge_point=charge_point, approved=False)
        messages.warning(request, f"{charge_point.id}: no longer approved")


@admin.action(description="Set authorization key…", permissions=["command"])
def set_authorization_key(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ChargePoint]
) -> HttpResponse | None:
    form = forms.AuthorizationKeyForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return TemplateResponse(
            request,
            "admin/charging/command_form.html",
            {
                **modeladmin.admin_site.each_context(request),
                "title": "Set authorization key",
                "opts": modeladmin.model._meta,
                "form": form,
                "ocpp_action": "AuthorizationKey",
                "admin_action": "set_authorization_key",
                "queryset": queryset,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "from_change": request.POST.get("_from_change", ""),
            },
        )
    for charge_point in queryset.order_by("id"):
        key = form.cleaned_data["key"] or admission.authorization_key_generate()
        shown = "" if form.cleaned_data["key"] else f": {key} (shown once)"
        if not form.cleaned_data["rotate"]:
            admission.authorization_key_set(charge_point=charge_point, key=key)
            messages.success(request, f"{charge_point.id}: authorization key set{shown}")
            continue
        try:
            commands.change_authorization_key(
                charge_point.id,
                key=key,
                wait=ADMIN_COMMAND_WAIT,
                requested_by=request.user.get_username(),
            )
        except commands.CommandError as exc:
            messages.error(request, f"{charge_point.id}: authorization key not changed: {exc}")
        else:
            messages.success(request, f"{charge_point.id}: authorization key changed{shown}")
    return None


@admin.action(description="Remove authorization key", permissions=["command"])
def remove_authorization_key(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ChargePoint]
) -> None:
    for charge_point in queryset.order_by("id"):
        admission.authorization_key_set(charge_point=charge_point, key=None)
        messages.warning(request, f"{charge_point.id}: authorization key removed")


ADMISSION_ACTIONS = [approve, withdraw_approval, set_authorization_key, remove_authorization_key]


# --- charge points --------------------------------------------------------------------------


class OnlineFilter(admin.SimpleListFilter):
    title = "online"
    parameter_name = "online"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Online"), ("no", "Offline")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(selectors.charge_point_online_q())
        if self.value() == "no":
            return queryset.exclude(selectors.charge_point_online_q())
        return queryset


class ConnectorStatusFilter(admin.SimpleListFilter):
    title = "connector status"
    parameter_name = "connector_status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        statuses = (
            Connector.objects.exclude(status="")
            .order_by("status")
            .values_list("status", flat=True)
            .distinct()
        )
        return [(status, status) for status in statuses]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(connectors__status=self.value()).distinct()
        return queryset


class ConnectorInline(ReadOnlyInline):
    model = Connector
    fields = (
        "connector_id",
        "status",
        "error_code",
        "info",
        "vendor_error_code",
        "timestamp",
        "status_updated_at",
        "availability",
        "availability_status",
        "remote_start_status",
    )
    readonly_fields = fields


class ConfigurationKeyInline(ReadOnlyInline):
    model = ConfigurationKey
    fields = ("key", "value", "readonly", "updated_at")
    readonly_fields = fields
    classes = ("collapse",)
    verbose_name_plural = "configuration keys (as last reported or changed)"


@admin.register(ChargePoint)
class ChargePointAdmin(CommandPermissionMixin, ReadOnlyAdmin):
    actions = [*COMMAND_ACTIONS, *ADMISSION_ACTIONS]
    add_form = forms.ChargePointAddForm
    change_form_template = "admin/charging/chargepoint/change_form.html"
    list_display = (
        "id",
        "online",
        "last_heartbeat",
        "vendor",
        "model",
        "firmware_version",
        "connector_badges",
        "active_transaction",
        "registration_status",
        "approved",
    )
    list_filter = (
        OnlineFilter,
        ConnectorStatusFilter,
        "vendor",
        "registration_status",
        "approved",
    )
    search_fields = ("id", "vendor", "model", "serial_number", "charge_box_serial_number")
    inlines = (ConnectorInline, ConfigurationKeyInline)
    fieldsets = (
        (None, {"fields": ("id", "online", "registration_status", "active_transaction")}),
        ("Admission", {"fields": ("approved", "has_authorization_key")}),
        (
            "Boot notification",
            {
                "fields": (
                    ("vendor", "model"),
                    ("serial_number", "charge_box_serial_number"),
                    "firmware_version",
                    ("meter_type", "meter_serial_number"),
                    ("iccid", "imsi"),
                    "last_boot_at",
                )
            },
        ),
        (
            "Connection",
            {
                "fields": (
                    ("connected", "connection_id"),
                    "gateway_id",
                    ("last_connect_at", "last_disconnect_at"),
                    ("last_heartbeat_at", "last_message_at"),
                )
            },
        ),
        (
            "Status reports",
            {
                "classes": ("collapse",),
                "fields": (
                    ("diagnostics_status", "diagnostics_status_at"),
                    ("firmware_status", "firmware_status_at"),
                    ("local_list_version", "local_list_version_at"),
                    "created_at",
                ),
            },
        ),
        ("Recent connection events", {"fields": ("recent_connection_events",)}),
        ("Recent messages", {"fields": ("recent_messages",)}),
    )
    readonly_fields = (
        "online",
        "has_authorization_key",
        "active_transaction",
        "recent_connection_events",
        "recent_messages",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChargePoint]:
        return selectors.charge_point_list_overview()

    # Adding is registering a charge point before it connects (charging.admission): its id and,
    # optionally, its authorization key; everything else it reports itself.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("charging.add_chargepoint")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        if obj is None:
            kwargs["form"] = self.add_form
            kwargs["fields"] = ["id"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return [(None, {"fields": ("id", "new_authorization_key")})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        return () if obj is None else super().get_readonly_fields(request, obj)

    def get_inline_instances(self, request: HttpRequest, obj: Any = None):
        return [] if obj is None else super().get_inline_instances(request, obj)

    def save_model(self, request: HttpRequest, obj: ChargePoint, form: Any, change: bool) -> None:
        if change:
            return  # read-only: nothing is edited by hand
        admission.charge_point_provision(
            charge_point_id=obj.id, key=form.cleaned_data.get("new_authorization_key") or None
        )

    @admin.display(description="authorization key", boolean=True)
    def has_authorization_key(self, charge_point: ChargePoint) -> bool:
        return bool(charge_point.authorization_key)

    @admin.display(description="online")
    def online(self, charge_point: ChargePoint) -> SafeString:
        seen = selectors.charge_point_last_seen(charge_point=charge_point)
        title = (
            f"last seen {timezone.localtime(seen).isoformat(timespec='seconds')}"
            if seen
            else "never seen"
        )
        if selectors.charge_point_is_online(charge_point=charge_point):
            return _badge("online", STATUS_COLOURS["Available"], title)
        if charge_point.connected:
            # Connected as far as the gateway said, but silent too long: its socket is likely dead.
            return _badge("silent", STATUS_COLOURS["Faulted"], title + " (still marked connected)")
        return _badge("offline", STATUS_COLOURS["Unavailable"], title)

    @admin.display(description="last heartbeat", ordering="last_heartbeat_at")
    def last_heartbeat(self, charge_point: ChargePoint) -> SafeString | str:
        return _relative(charge_point.last_heartbeat_at)

    @admin.display(description="connectors")
    def connector_badges(self, charge_point: ChargePoint) -> SafeString | str:
        connectors = list(charge_point.connectors.all())  # prefetched
        if not connectors:
            return "-"
        return format_html_join(
            "",
            "{}",
            (
                (
                    _badge(
                        f"{c.connector_id} {c.status or '?'}",
                        STATUS_COLOURS.get(c.status, "#9e9e9e"),
                        " ".join(p for p in (c.error_code, c.info) if p and p != "NoError"),
                    ),
                )
                for c in connectors
            ),
        )

    @admin.display(description="active transaction")
    def active_transaction(self, charge_point: ChargePoint) -> SafeString | str:
        open_ones = getattr(charge_point, "open_transactions", None)
        if open_ones is None:
            open_ones = list(
                selectors.transaction_list(charge_point_id=charge_point.id, active=True)
            )
        if not open_ones:
            return "-"
        return format_html_join(
            " ",
            "{}",
            (
                (_change_link(tx, f"#{tx.id} on {tx.connector_id} ({tx.id_tag})"),)
                for tx in open_ones
            ),
        )

    @admin.display(description="connection events")
    def recent_connection_events(self, charge_point: ChargePoint) -> SafeString:
        events = charge_point.connection_events.order_by("-id")[:RECENT_ROWS]
        return _table(
            ["at", "kind", "gateway", "connection", "remote", "close code", "reason"],
            [
                (
                    timezone.localtime(e.at).isoformat(timespec="seconds"),
                    e.kind,
                    e.gateway_id,
                    e.connection_id,
                    e.remote,
                    "" if e.close_code is None else e.close_code,
                    e.reason,
                )
                for e in events
            ],
        )

    @admin.display(description="messages")
    def recent_messages(self, charge_point: ChargePoint) -> SafeString:
        frames = charge_point.messages.order_by("-id")[:RECENT_ROWS]
        return _table(
            ["at", "direction", "type", "action", "unique id", "error"],
            [
                (
                    _change_link(m, timezone.localtime(m.created_at).isoformat(timespec="seconds")),
                    "→ CS" if m.direction == "in" else "→ CP",
                    m.get_message_type_display() if m.message_type else "?",
                    m.action,
                    m.unique_id,
                    m.error_code,
                )
                for m in frames
            ],
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The charge point's page offers the same commands as the list (one charge point selected).
        context["command_choices"] = [
            (name, description) for name, (_, _, description) in self.get_actions(request).items()
        ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def response_action(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        response = super().response_action(request, queryset)
        back_to = request.POST.get("_from_change", "")
        if isinstance(response, HttpResponseRedirect) and back_to:
            obj = queryset.filter(pk=back_to).first()
            if obj is not None:
                return HttpResponseRedirect(
                    reverse("admin:charging_chargepoint_change", args=[obj.pk])
                )
        return response


@admin.register(Connector)
class ConnectorAdmin(ReadOnlyAdmin):
    list_display = (
        "charge_point",
        "connector_id",
        "status",
        "error_code",
        "status_updated_at",
        "remote_start_status",
    )
    list_filter = ("status", "error_code")
    search_fields = ("charge_point__id",)


@admin.register(ConfigurationKey)
class ConfigurationKeyAdmin(ReadOnlyAdmin):
    list_display = ("charge_point", "key", "value", "readonly", "updated_at")
    list_filter = ("readonly", ("charge_point", admin.RelatedOnlyFieldListFilter))
    search_fields = ("key", "=charge_point__id")


@admin.register(IdTag)
class IdTagAdmin(admin.ModelAdmin):
    list_display = ("id_tag", "status", "expiry_date", "parent")
    list_filter = ("status",)
    search_fields = ("id_tag",)
    raw_id_fields = ("parent",)
    fields = ("id_tag", "status", "expiry_date", "parent", "created_at")
    readonly_fields = ("created_at",)


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

    list_display = (
        "id",
        "charge_point",
        "connector_id",
        "id_tag",
        "started_at",
        "stopped_at",
        "duration_display",
        "energy_kwh",
        "stop_reason",
        "active",
    )
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
                    ("stop_reason", "stop_id_tag", "closed_as_orphan"),
                    "notes",
                )
            },
        ),
        ("Energy and power", {"fields": ("energy_chart",)}),
        ("Meter values", {"classes": ("collapse",), "fields": ("meter_value_table",)}),
    )
    readonly_fields = ("energy_kwh", "duration_display", "energy_chart", "meter_value_table")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transaction]:
        return selectors.transaction_list_with_energy()

    @admin.display(description="energy kWh", ordering="energy_wh")
    def energy_kwh(self, transaction: Transaction) -> str:
        return export.format_kwh(getattr(transaction, "energy_wh", None)) or "-"

    @admin.display(description="duration", ordering="duration")
    def duration_display(self, transaction: Transaction) -> str:
        return export.format_duration(getattr(transaction, "duration", None)) or "-"

    @admin.display(description="active", boolean=True)
    def active(self, transaction: Transaction) -> bool:
        return transaction.is_open

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
                timezone.localtime(mv.timestamp).isoformat(timespec="seconds")
                if mv.timestamp
                else "-",
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


# --- messages and connection events ---------------------------------------------------------


class HasErrorFilter(admin.SimpleListFilter):
    title = "error"
    parameter_name = "has_error"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "With an error code"), ("no", "Without")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.exclude(error_code="")
        if self.value() == "no":
            return queryset.filter(error_code="")
        return queryset


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "charge_point",
        "direction",
        "message_type",
        "action",
        "unique_id",
        "error_code",
    )
    list_filter = (
        ("charge_point", admin.RelatedOnlyFieldListFilter),
        "action",
        "direction",
        "message_type",
        HasErrorFilter,
    )
    search_fields = ("=unique_id",)
    search_help_text = "The exact OCPP message id (unique id)."
    list_select_related = ("charge_point",)
    show_full_result_count = False  # the log is big; one COUNT(*) per page is enough
    fields = (
        ("charge_point", "connection_id"),
        ("direction", "message_type"),
        ("action", "unique_id"),
        "payload_json",
        ("error_code", "error_description"),
        "error_details_json",
        "raw",
        "answer_to",
        "note",
        ("received_at", "created_at"),
        "frame_id",
    )
    readonly_fields = ("payload_json", "error_details_json")

    @admin.display(description="payload")
    def payload_json(self, message: Message) -> SafeString | str:
        return _json_block(message.payload)

    @admin.display(description="error details")
    def error_details_json(self, message: Message) -> SafeString | str:
        return _json_block(message.error_details)


@admin.register(ConnectionEvent)
class ConnectionEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "charge_point", "kind", "gateway_id", "connection_id", "close_code")
    list_filter = ("kind",)
    search_fields = ("charge_point__id", "connection_id")


@admin.register(OutboundCall)
class OutboundCallAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "charge_point",
        "action",
        "status",
        "error_code",
        "requested_by",
        "answered_at",
        "unique_id",
    )
    list_filter = ("status", "action", ("charge_point", admin.RelatedOnlyFieldListFilter))
    search_fields = ("charge_point__id", "unique_id", "requested_by")
    date_hierarchy = "created_at"
    fields = (
        "charge_point",
        "action",
        "unique_id",
        "status",
        "payload_json",
        "response_json",
        "error_code",
        "error_description",
        "requested_by",
        "callback",
        "delay",
        "timeout",
        "created_at",
        "sent_at",
        "answered_at",
        "connection_id",
        "source_message",
        "message",
    )
    readonly_fields = fields

    @admin.display(description="payload")
    def payload_json(self, call: OutboundCall) -> str:
        return format_html("<pre>{}</pre>", json.dumps(call.payload, indent=2, sort_keys=True))

    @admin.display(description="response")
    def response_json(self, call: OutboundCall) -> str:
        if call.response is None:
            return "-"
        return format_html("<pre>{}</pre>", json.dumps(call.response, indent=2, sort_keys=True))
