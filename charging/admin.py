"""Admin: id tags are edited here; what chargers report is shown read-only; commands go to chargers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html

from . import commands, forms
from .models import (
    ChargePoint,
    ConnectionEvent,
    Connector,
    IdTag,
    Message,
    MeterValue,
    OutboundCall,
    Transaction,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Charger-owned data: viewable and deletable, never added or edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


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


@admin.register(ChargePoint)
class ChargePointAdmin(CommandPermissionMixin, ReadOnlyAdmin):
    actions = [
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
    list_display = (
        "id",
        "vendor",
        "model",
        "firmware_version",
        "registration_status",
        "connected",
        "last_message_at",
    )
    list_filter = ("connected", "registration_status", "vendor")
    search_fields = ("id", "serial_number", "charge_box_serial_number")


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


@admin.register(IdTag)
class IdTagAdmin(admin.ModelAdmin):
    list_display = ("id_tag", "status", "expiry_date", "parent")
    list_filter = ("status",)
    search_fields = ("id_tag",)
    raw_id_fields = ("parent",)


@admin.register(Transaction)
class TransactionAdmin(CommandPermissionMixin, ReadOnlyAdmin):
    actions = ["remote_stop"]

    list_display = (
        "id",
        "charge_point",
        "connector_id",
        "id_tag",
        "meter_start",
        "meter_stop",
        "started_at",
        "stopped_at",
        "stop_reason",
    )
    list_filter = ("stop_reason", "closed_as_orphan")
    search_fields = ("=id", "charge_point__id", "id_tag")

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
    )
    list_filter = ("measurand", "context")
    search_fields = ("charge_point__id", "=transaction__id")


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
    list_filter = ("direction", "message_type", "action")
    search_fields = ("charge_point__id", "unique_id")


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
