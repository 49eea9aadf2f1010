"""Admin of OCPP-J messages, connection events and outbound calls."""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..models import ConnectionEvent, Message, OutboundCall
from .base import ReadOnlyAdmin, _json_block

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


class SoftViolationsFilter(admin.SimpleListFilter):
    title = "soft violations"
    parameter_name = "soft_violations"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Accepted with soft violations"), ("no", "Without")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(violations__isnull=False)
        if self.value() == "no":
            return queryset.filter(violations__isnull=True)
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
        SoftViolationsFilter,
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
        "violations_json",
        "raw",
        "answer_to",
        "note",
        ("received_at", "created_at"),
        "frame_id",
    )
    readonly_fields = ("payload_json", "error_details_json", "violations_json")

    @admin.display(description="payload")
    def payload_json(self, message: Message) -> SafeString | str:
        return _json_block(message.payload)

    @admin.display(description="soft violations (accepted)")
    def violations_json(self, message: Message) -> SafeString | str:
        return _json_block(message.violations)

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
        "flow",
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
