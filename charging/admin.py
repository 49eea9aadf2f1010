"""Admin: id tags are edited here; what chargers report is shown read-only."""

from django.contrib import admin
from django.http import HttpRequest

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


@admin.register(ChargePoint)
class ChargePointAdmin(ReadOnlyAdmin):
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
class TransactionAdmin(ReadOnlyAdmin):
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
    list_display = ("created_at", "charge_point", "action", "status", "unique_id", "requested_by")
    list_filter = ("status", "action")
    search_fields = ("charge_point__id", "unique_id")
