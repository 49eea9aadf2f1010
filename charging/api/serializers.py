"""Serializers of the HTTP API: field names follow the models; OCPP payloads stay as the spec spells them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import APIException

from charging import admission, selectors
from charging.events import EVENT_NAMES
from charging.models import (
    WEBHOOK_URL_PATTERN,
    ChargePoint,
    ChargerJob,
    ChargingProfile,
    Connector,
    FullMatchValidator,
    IdTag,
    MeterValue,
    OutboundCall,
    Reservation,
    Transaction,
    ValidationMode,
    Webhook,
)


class StrictBooleanField(serializers.BooleanField):
    """A JSON `true` or `false`, as the schema says: not DRF's "yes", 1 or "on" as well."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)


class StrictRegexField(serializers.RegexField):
    """A JSON string matching the pattern, as the schema says: not DRF's number made a string."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ConnectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Connector
        fields = [
            "connector_id",
            "status",
            "error_code",
            "info",
            "vendor_id",
            "vendor_error_code",
            "timestamp",
            "status_updated_at",
            # The last accepted GetCompositeSchedule answer and what was asked (docs/commands.md).
            "composite_schedule",
            "composite_schedule_request",
            "composite_schedule_at",
        ]


class ChargePointSerializer(serializers.ModelSerializer):
    connectors = ConnectorSerializer(many=True, read_only=True)
    has_authorization_key = serializers.SerializerMethodField()

    validation = serializers.SerializerMethodField(
        help_text="Its own validation mode (strict, lenient), or null: OCPP_VALIDATION"
    )
    validation_mode = serializers.SerializerMethodField(help_text="The mode in effect")

    def get_has_authorization_key(self, charge_point: ChargePoint) -> bool:
        # Never the hash itself.
        return bool(charge_point.authorization_key)

    def get_validation(self, charge_point: ChargePoint) -> str | None:
        return charge_point.validation or None

    def get_validation_mode(self, charge_point: ChargePoint) -> str:
        return selectors.charge_point_validation_mode(charge_point=charge_point)

    class Meta:
        model = ChargePoint
        # The gateway's routing fields (connection_id, reply_to) are internal.
        fields = [
            "id",
            "vendor",
            "model",
            "serial_number",
            "charge_box_serial_number",
            "firmware_version",
            "iccid",
            "imsi",
            "meter_type",
            "meter_serial_number",
            "registration_status",
            "approved",
            "has_authorization_key",
            "validation",
            "validation_mode",
            "connected",
            "gateway_id",
            "last_connect_at",
            "last_disconnect_at",
            "last_boot_at",
            "last_heartbeat_at",
            "last_message_at",
            "diagnostics_status",
            "diagnostics_status_at",
            "firmware_status",
            "firmware_status_at",
            "created_at",
            "connectors",
        ]


class MeterValueSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeterValue
        fields = [
            "timestamp",
            "received_at",
            "connector_id",
            "measurand",
            "phase",
            "location",
            "context",
            "format",
            "value",
            "unit",
        ]


class TransactionSerializer(serializers.ModelSerializer):
    charge_point = serializers.CharField(source="charge_point_id", read_only=True)
    active = serializers.BooleanField(source="is_open", read_only=True)
    energy_wh = serializers.SerializerMethodField(
        help_text="meter_stop - meter_start once stopped, else the latest energy register - meter_start"
    )

    class Meta:
        model = Transaction
        fields = [
            "id",
            "charge_point",
            "connector_id",
            "id_tag",
            "id_tag_status",
            "reservation_id",
            "active",
            "meter_start",
            "meter_stop",
            "energy_wh",
            "started_at",
            "start_received_at",
            "stopped_at",
            "stop_received_at",
            "stop_reason",
            "stop_id_tag",
            "closed_as_orphan",
            "notes",
        ]

    def get_energy_wh(self, transaction: Transaction) -> int | None:
        return selectors.transaction_energy_wh(transaction=transaction)


class TransactionDetailSerializer(TransactionSerializer):
    meter_values = serializers.SerializerMethodField()

    class Meta(TransactionSerializer.Meta):
        fields = [*TransactionSerializer.Meta.fields, "meter_values"]

    @extend_schema_field(MeterValueSerializer(many=True))
    def get_meter_values(self, transaction: Transaction) -> list[dict[str, Any]]:
        samples = selectors.meter_value_list(transaction=transaction)
        return MeterValueSerializer(samples, many=True).data


class Conflict(APIException):
    """409: a well-formed request that what is stored rules out (a duplicate, a cycle)."""

    status_code = 409
    default_detail = "Conflicts with what is stored."
    default_code = "conflict"


class NonBlankSlugRelatedField(serializers.SlugRelatedField):
    """DRF reads "" as null for relations (HTML forms); the JSON API takes null, never ""."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if data is not serializers.empty and data is not None and not isinstance(data, str):
            self.fail("invalid")
        if data == "" or (isinstance(data, str) and "\x00" in data):
            self.fail("invalid")  # PostgreSQL cannot even look a NUL up
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError:
            # Well-formed, but no such id tag is stored: a conflict, not a malformed request.
            raise Conflict(f"No id tag {data!r} to be the parent.") from None


class IdTagSerializer(serializers.ModelSerializer):
    parent = NonBlankSlugRelatedField(
        slug_field="id_tag",
        queryset=IdTag.objects.all(),
        required=False,
        allow_null=True,
        help_text="The parent idTag (OCPP 1.6 IdTagInfo.parentIdTag)",
    )

    class Meta:
        model = IdTag
        fields = ["id", "id_tag", "status", "expiry_date", "parent", "created_at"]
        read_only_fields = ["id", "created_at"]
        # Uniqueness is checked case-insensitively below (409), not by DRF's validator (400).
        # Stored as given, like the idTag a charger sends (trimmed, " A" would never match it).
        extra_kwargs = {"id_tag": {"validators": [], "trim_whitespace": False}}

    def validate_id_tag(self, value: str) -> str:
        # IdToken is case insensitive (OCPP 1.6 IdToken type); the database constraint is on
        # Lower(id_tag), which DRF's own unique validator does not know about.
        existing = selectors.id_tag_get(id_tag=value)
        if existing is not None and existing != self.instance:
            raise Conflict("An id tag with this value exists (case-insensitive).")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        parent = attrs.get("parent")
        if parent is not None and self.instance is not None and parent.pk == self.instance.pk:
            raise Conflict("An id tag cannot be its own parent.")
        return attrs


class OutboundCallSerializer(serializers.ModelSerializer):
    charge_point = serializers.CharField(source="charge_point_id", read_only=True)

    class Meta:
        model = OutboundCall
        fields = [
            "id",
            "unique_id",
            "charge_point",
            "action",
            "payload",
            "status",
            "response",
            "error_code",
            "error_description",
            "requested_by",
            "timeout",
            "created_at",
            "sent_at",
            "answered_at",
        ]
        read_only_fields = fields


class ReservationSerializer(serializers.ModelSerializer):
    charge_point = serializers.CharField(source="charge_point_id", read_only=True)
    call = serializers.IntegerField(source="call_id", read_only=True, allow_null=True)
    transaction = serializers.IntegerField(source="transaction_id", read_only=True, allow_null=True)

    class Meta:
        model = Reservation
        fields = [
            "id",
            "charge_point",
            "connector_id",
            "id_tag",
            "parent_id_tag",
            "expiry_date",
            "status",
            "call",
            "transaction",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ChargerJobSerializer(serializers.ModelSerializer):
    charge_point = serializers.CharField(source="charge_point_id", read_only=True)
    call = serializers.IntegerField(source="call_id", read_only=True, allow_null=True)

    class Meta:
        model = ChargerJob
        fields = [
            "id",
            "charge_point",
            "kind",
            "request_id",
            "location",
            "status",
            "file_name",
            "finished",
            "history",
            "call",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ChargingProfileSerializer(serializers.ModelSerializer):
    """Our view of a charging profile sent to the charger (OCPP 1.6 §3.13); `status` is ours
    (Requested, Installed, Rejected, Unconfirmed, Replaced, Cleared, Ended), `answer` the
    charger's."""

    charge_point = serializers.CharField(source="charge_point_id", read_only=True)
    transaction = serializers.IntegerField(source="transaction_id", read_only=True, allow_null=True)
    call = serializers.IntegerField(source="call_id", read_only=True, allow_null=True)
    cleared_by = serializers.IntegerField(source="cleared_by_id", read_only=True, allow_null=True)

    class Meta:
        model = ChargingProfile
        fields = [
            "id",
            "charge_point",
            "connector_id",
            "charging_profile_id",
            "stack_level",
            "purpose",
            "kind",
            "recurrency_kind",
            "valid_from",
            "valid_to",
            "transaction",
            "duration",
            "start_schedule",
            "charging_rate_unit",
            "min_charging_rate",
            "schedule_periods",
            "status",
            "answer",
            "call",
            "cleared_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class LocalListSyncRequestSerializer(serializers.Serializer):
    full = StrictBooleanField(
        default=False, help_text="Send the whole list, not just the changes since its version"
    )


class LocalListSyncSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        allow_null=True, help_text="The list version sent (or the one it already had)"
    )
    update_type = serializers.CharField(
        allow_null=True, help_text="Full or Differential; null: up to date, nothing sent"
    )
    entries = serializers.IntegerField()
    response = serializers.DictField(allow_null=True, help_text="The charger's SendLocalList.conf")


class ErrorSerializer(serializers.Serializer):
    """Why a call failed: an OCPP 1.6 error code (ours or the charger's) and its reason."""

    code = serializers.CharField()
    description = serializers.CharField()
    details = serializers.DictField(required=False)


class CallErrorResponseSerializer(serializers.Serializer):
    """A 400 answer: the payload or action was refused before anything was recorded."""

    error = ErrorSerializer()


class CallOutcomeSerializer(OutboundCallSerializer):
    """The recorded call, with `error` set when it did not end in a CALLRESULT."""

    error = ErrorSerializer(required=False, read_only=True)

    class Meta(OutboundCallSerializer.Meta):
        fields = [*OutboundCallSerializer.Meta.fields, "error"]
        read_only_fields = fields


class AuthorizationKeyRequestSerializer(serializers.Serializer):
    key = StrictRegexField(
        admission.KEY_PATTERN,
        required=False,
        allow_null=True,
        trim_whitespace=False,
        min_length=admission.MIN_KEY_LENGTH,
        max_length=admission.MAX_KEY_LENGTH,
        help_text="16 to 40 printable ASCII characters, no spaces; omitted or null: a random one (40 hex digits) is "
        "generated and returned",
    )
    rotate = StrictBooleanField(
        default=False,
        help_text="true: first send ChangeConfiguration AuthorizationKey and store the key only "
        "when the charger answers Accepted; false: store it as set on the charger by hand",
    )


class AuthorizationKeyResponseSerializer(serializers.Serializer):
    charge_point = serializers.CharField()
    has_authorization_key = serializers.BooleanField()
    key = serializers.CharField(required=False, help_text="Only when generated: shown once")


class ApprovalSerializer(serializers.Serializer):
    approved = StrictBooleanField(default=True)


class ValidationSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=ValidationMode.values,
        allow_null=True,
        help_text="strict or lenient; null: follow OCPP_VALIDATION",
    )


class WebhookSerializer(serializers.ModelSerializer):
    # A RegexField, so the schema carries the pattern (not the NO_NUL one of a plain string).
    url = StrictRegexField(
        WEBHOOK_URL_PATTERN,
        max_length=2000,
        trim_whitespace=False,
        validators=[FullMatchValidator(WEBHOOK_URL_PATTERN, "An http:// or https:// URL.")],
        help_text="http:// or https://; each event is POSTed to it",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_NAMES),
        min_length=1,
        help_text="The events it receives (docs/events.md); a name given twice counts once",
    )
    secret = serializers.CharField(
        write_only=True,
        min_length=1,
        max_length=255,
        trim_whitespace=False,
        help_text="Key of the X-Levity-Signature HMAC; never returned",
    )
    active = StrictBooleanField(required=False, default=True)

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "secret", "active", "description", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_events(self, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))
