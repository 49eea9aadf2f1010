"""Admin of charge points, connectors, configuration keys and id tags."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .. import admission, forms, selectors, services
from ..models import ChargePoint, ConfigurationKey, Connector, IdTag
from .actions import (
    ADMISSION_ACTIONS,
    COMMAND_ACTIONS,
    VALIDATION_ACTIONS,
    CommandPermissionMixin,
)
from .base import (
    STATUS_COLOURS,
    ReadOnlyAdmin,
    ReadOnlyInline,
    _badge,
    _change_link,
    _moment,
    _relative,
    _table,
)
from .smart_charging import ChargingProfileInline, composite_schedule_html, composite_schedules_html

RECENT_ROWS = 20  # messages and connection events shown on a charge point's page


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
        "transaction_loop_at",
        "transaction_loop_count",
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
    actions = [*COMMAND_ACTIONS, *ADMISSION_ACTIONS, *VALIDATION_ACTIONS]
    add_form = forms.ChargePointAddForm
    change_form_template = "admin/charging/chargepoint/change_form.html"
    # What an operator scans, fitting 1,400 px beside the admin's menus; vendor, model,
    # firmware and admission are on the charge point's page (and in the filters).
    list_display = (
        "id",
        "state",
        "connector_badges",
        "active_transaction",
        "last_heartbeat",
    )
    list_filter = (
        OnlineFilter,
        ConnectorStatusFilter,
        "vendor",
        "registration_status",
        "approved",
    )
    search_fields = ("id", "vendor", "model", "serial_number", "charge_box_serial_number")
    inlines = (ConnectorInline, ChargingProfileInline, ConfigurationKeyInline)
    fieldsets = (
        (None, {"fields": ("id", "online", "registration_status", "active_transaction")}),
        ("Admission", {"fields": ("approved", "has_authorization_key")}),
        ("Validation", {"fields": ("validation_mode", "soft_violations")}),
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
        ("Composite schedules", {"fields": ("composite_schedules",)}),
        ("Recent connection events", {"fields": ("recent_connection_events",)}),
        ("Recent messages", {"fields": ("recent_messages",)}),
    )
    readonly_fields = (
        "online",
        "has_authorization_key",
        "validation_mode",
        "soft_violations",
        "active_transaction",
        "composite_schedules",
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

    @admin.display(description="validation")
    def validation_mode(self, charge_point: ChargePoint) -> str:
        mode = selectors.charge_point_validation_mode(charge_point=charge_point)
        return mode if charge_point.validation else f"{mode} (OCPP_VALIDATION)"

    @admin.display(description="frames with soft violations")
    def soft_violations(self, charge_point: ChargePoint) -> SafeString:
        count = selectors.charge_point_soft_violation_count(charge_point=charge_point)
        url = reverse("admin:charging_message_changelist")
        query = urlencode({"charge_point__id__exact": charge_point.id, "soft_violations": "yes"})
        return format_html('<a href="{}?{}">{}</a>', url, query, count)

    @admin.display(description="online")
    def online(self, charge_point: ChargePoint) -> SafeString:
        seen = selectors.charge_point_last_seen(charge_point=charge_point)
        title = f"last seen {_moment(seen)}" if seen else "never seen"
        if selectors.charge_point_is_online(charge_point=charge_point):
            return _badge("online", STATUS_COLOURS["Available"], title)
        if charge_point.connected:
            # Connected as far as the gateway said, but silent too long: its socket is likely dead.
            return _badge("silent", STATUS_COLOURS["Faulted"], title + " (still marked connected)")
        return _badge("offline", STATUS_COLOURS["Unavailable"], title)

    @admin.display(description="state")
    def state(self, charge_point: ChargePoint) -> SafeString:
        """Online, silent or offline, and the registration when it is not Accepted."""
        badges = [self.online(charge_point)]
        if charge_point.registration_status not in ("", "Accepted"):
            badges.append(
                _badge(
                    charge_point.registration_status,
                    STATUS_COLOURS["Preparing"],
                    "BootNotification answer" + ("" if charge_point.approved else "; not approved"),
                )
            )
        return format_html_join("", "{}", ((badge,) for badge in badges))

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
                        f"{c.connector_id} {c.status or '?'}"
                        + (" ⚠ loop" if c.transaction_loop_at else ""),
                        STATUS_COLOURS.get(c.status, "#9e9e9e"),
                        " ".join(
                            p
                            for p in (c.error_code, c.info, _loop_title(c))
                            if p and p != "NoError"
                        ),
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

    @admin.display(description="composite schedules (GetCompositeSchedule)")
    def composite_schedules(self, charge_point: ChargePoint) -> SafeString | str:
        return composite_schedules_html(list(charge_point.connectors.all()))

    @admin.display(description="connection events")
    def recent_connection_events(self, charge_point: ChargePoint) -> SafeString:
        events = charge_point.connection_events.order_by("-id")[:RECENT_ROWS]
        return _table(
            ["at", "kind", "gateway", "connection", "remote", "close code", "reason"],
            [
                (
                    _moment(e.at),
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
                    _change_link(m, _moment(m.created_at)),
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


def _loop_title(connector: Connector) -> str:
    """The charge-start loop flag (services.connector_transaction_loop_check), as text."""
    if connector.transaction_loop_at is None:
        return ""
    return (
        f"charge-start loop: {connector.transaction_loop_count} transactions started within a "
        f"minute, {connector.transaction_loop_at:%Y-%m-%d %H:%M:%S %Z}"
    )


@admin.register(Connector)
class ConnectorAdmin(ReadOnlyAdmin):
    list_display = (
        "charge_point",
        "connector_id",
        "status",
        "error_code",
        "status_updated_at",
        "remote_start_status",
        "transaction_loop",
    )
    list_filter = ("status", "error_code", ("transaction_loop_at", admin.EmptyFieldListFilter))
    search_fields = ("charge_point__id",)
    readonly_fields = ("composite_schedule_chart",)

    @admin.display(description="charge-start loop", ordering="transaction_loop_at")
    def transaction_loop(self, connector: Connector) -> str:
        return _loop_title(connector)

    @admin.display(description="composite schedule chart")
    def composite_schedule_chart(self, connector: Connector) -> SafeString | str:
        return composite_schedule_html(connector)


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
    fields = ("id_tag", "status", "expiry_date", "parent", "list_version", "created_at")
    readonly_fields = ("list_version", "created_at")

    # Through the local list's services, so chargers get the change at their next sync.
    def save_model(self, request: HttpRequest, obj: IdTag, form: Any, change: bool) -> None:
        services.id_tag_save(id_tag=obj)

    def delete_model(self, request: HttpRequest, obj: IdTag) -> None:
        services.id_tag_delete(id_tag=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[IdTag]) -> None:
        for id_tag in queryset:
            services.id_tag_delete(id_tag=id_tag)
