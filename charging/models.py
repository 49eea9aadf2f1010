"""Storage of charge points, connectors, id tags, transactions, meter values and OCPP frames."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import MD5, Coalesce, Lower
from django.utils import timezone

from .protocol.identity import (
    MAX_CHARGE_POINT_ID_LENGTH,
    InvalidChargePointId,
    charge_point_id_check,
)


class RegistrationStatus(models.TextChoices):
    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


class ValidationMode(models.TextChoices):
    """How a charger's payloads are validated (charging.protocol.validation)."""

    LENIENT = "lenient", "Lenient: soft violations accepted and recorded"
    STRICT = "strict", "Strict: every schema violation refused"


def validate_charge_point_id(value: str) -> None:
    try:
        charge_point_id_check(value)
    except InvalidChargePointId as error:
        raise ValidationError(str(error), code="invalid") from None


class ChargePoint(models.Model):
    """A charge point, identified by the last path segment of its websocket URL."""

    id = models.CharField(
        primary_key=True,
        max_length=MAX_CHARGE_POINT_ID_LENGTH,
        validators=[validate_charge_point_id],
    )

    # BootNotification.req fields (OCPP 1.6 §4.2), as the charger last reported them.
    vendor = models.CharField(max_length=20, blank=True, default="")
    model = models.CharField(max_length=20, blank=True, default="")
    serial_number = models.CharField(max_length=25, blank=True, default="")
    charge_box_serial_number = models.CharField(max_length=25, blank=True, default="")
    firmware_version = models.CharField(max_length=50, blank=True, default="")
    iccid = models.CharField(max_length=20, blank=True, default="")
    imsi = models.CharField(max_length=20, blank=True, default="")
    meter_type = models.CharField(max_length=25, blank=True, default="")
    meter_serial_number = models.CharField(max_length=25, blank=True, default="")
    registration_status = models.CharField(
        max_length=16, choices=RegistrationStatus.choices, blank=True, default=""
    )
    # Admission (charging.admission): BootNotification answers Accepted only once approved;
    # charge points first seen under OCPP_UNKNOWN_CHARGE_POINTS "pending"/"reject" start unapproved.
    approved = models.BooleanField(
        default=True, help_text="Admitted by an operator: BootNotification is answered Accepted"
    )
    # HTTP Basic password of the websocket handshake (security profile 1), as a Django password
    # hash; empty: none set. The key itself is never stored.
    authorization_key = models.CharField(max_length=256, blank=True, default="", editable=False)
    # The hash of the new key of a rotation (ChangeConfiguration AuthorizationKey) that ended
    # without an answer: the charger may hold either key, so both are accepted until it next
    # authenticates with one of them (charging.admission).
    authorization_key_pending = models.CharField(
        max_length=256, blank=True, default="", editable=False
    )

    # Connection state, written from the gateway's connect/disconnect events.
    connected = models.BooleanField(default=False)
    connection_id = models.CharField(max_length=64, blank=True, default="")
    gateway_id = models.CharField(max_length=255, blank=True, default="")
    last_connect_at = models.DateTimeField(null=True, blank=True)
    last_disconnect_at = models.DateTimeField(null=True, blank=True)
    last_boot_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # The unique id and action of the latest inbound CALL, kept on the locked row so that a
    # repeated CALL (OCPP-J 1.6 §4.1.1) is recognised without a query (charging.dispatch).
    last_call_unique_id = models.CharField(max_length=64, blank=True, default="", editable=False)
    last_call_action = models.CharField(max_length=64, blank=True, default="", editable=False)
    # Whether the latest CALL had the unique id and action of the one before it.
    last_call_repeat = models.BooleanField(default=False, editable=False)

    diagnostics_status = models.CharField(max_length=32, blank=True, default="")
    diagnostics_status_at = models.DateTimeField(null=True, blank=True)
    firmware_status = models.CharField(max_length=32, blank=True, default="")
    firmware_status_at = models.DateTimeField(null=True, blank=True)
    # The charger's local authorization list version (GetLocalListVersion.conf, SendLocalList.req).
    local_list_version = models.IntegerField(null=True, blank=True)
    local_list_version_at = models.DateTimeField(null=True, blank=True)
    # When an Authorize was last answered Accepted: its driver starts the session, not us
    # (charging.services.auto_remote_start).
    last_authorized_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Payload validation (docs/validation.md); empty: OCPP_VALIDATION.
    validation = models.CharField(
        max_length=8,
        choices=ValidationMode.choices,
        blank=True,
        default="",
        help_text="Payload validation; empty: the OCPP_VALIDATION setting",
    )

    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.id


class Connector(models.Model):
    """A connector of a charge point; connector 0 is the charge point as a whole (OCPP 1.6 §4.9)."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="connectors"
    )
    connector_id = models.PositiveIntegerField()
    status = models.CharField(max_length=32, blank=True, default="")
    error_code = models.CharField(max_length=32, blank=True, default="")
    info = models.CharField(max_length=50, blank=True, default="")
    vendor_id = models.CharField(max_length=255, blank=True, default="")
    vendor_error_code = models.CharField(max_length=50, blank=True, default="")
    timestamp = models.DateTimeField(null=True, blank=True, help_text="Charger's clock")
    status_updated_at = models.DateTimeField(null=True, blank=True, help_text="Server's clock")
    # Outcome of the last automatic RemoteStartTransaction (see AutoRemoteStartMiddleware).
    remote_start_status = models.CharField(max_length=32, blank=True, default="")
    remote_start_status_at = models.DateTimeField(null=True, blank=True)
    # A charge-start loop: more than OCPP_TRANSACTION_LOOP_THRESHOLD transactions started here
    # within a minute (charging.services.auto_remote_start); the latest time and count seen.
    transaction_loop_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time too many transactions started in a minute"
    )
    transaction_loop_count = models.PositiveIntegerField(default=0)
    # Availability as last changed by an accepted ChangeAvailability (OCPP 1.6 §5.2): Operative or
    # Inoperative; `availability_status` is the charger's answer (Accepted, or Scheduled: it
    # applies once the running transaction ends).
    availability = models.CharField(max_length=16, blank=True, default="")
    availability_status = models.CharField(max_length=16, blank=True, default="")
    availability_updated_at = models.DateTimeField(null=True, blank=True)
    # The last accepted GetCompositeSchedule.conf for this connector (0: the grid connection),
    # and the GetCompositeSchedule.req it answered (its duration and chargingRateUnit).
    composite_schedule = models.JSONField(null=True, blank=True)
    composite_schedule_request = models.JSONField(null=True, blank=True)
    composite_schedule_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["charge_point_id", "connector_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "connector_id"], name="charging_connector_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id}/{self.connector_id}"


class IdTagStatus(models.TextChoices):
    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"


class IdTag(models.Model):
    """An identifier (RFID card, app token) that may start transactions (OCPP 1.6 IdToken type)."""

    id_tag = models.CharField(max_length=20, unique=True)
    status = models.CharField(
        max_length=16, choices=IdTagStatus.choices, default=IdTagStatus.ACCEPTED
    )
    expiry_date = models.DateTimeField(null=True, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    # The local authorization list version (LocalList) in which this tag last changed.
    list_version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id_tag"]
        verbose_name = "id tag"
        constraints = [
            # IdToken is case insensitive (OCPP 1.6 IdToken type).
            models.UniqueConstraint(Lower("id_tag"), name="charging_idtag_id_tag_ci_unique")
        ]

    def __str__(self) -> str:
        return self.id_tag


class LocalList(models.Model):
    """The version of the local authorization list (OCPP 1.6 §3.5.2): one row, bumped under its
    lock whenever an id tag changes, so that chargers get differential updates."""

    version = models.PositiveIntegerField(default=1)  # 0 means "no list" to a charger

    def __str__(self) -> str:
        return f"local list version {self.version}"


class IdTagRemoval(models.Model):
    """An id tag deleted in local list version `list_version`: the differential updates after
    it remove the tag from the chargers' lists."""

    id_tag = models.CharField(max_length=20)
    list_version = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["list_version"], name="charging_idtagremoval_version")]

    def __str__(self) -> str:
        return f"{self.id_tag} removed in version {self.list_version}"


class Transaction(models.Model):
    """A charging session; its integer primary key is the OCPP transactionId."""

    id = models.AutoField(primary_key=True)
    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="transactions"
    )
    connector_id = models.PositiveIntegerField()
    id_tag = models.CharField(max_length=20)
    id_tag_status = models.CharField(max_length=16, blank=True, default="")
    reservation_id = models.IntegerField(null=True, blank=True)
    meter_start = models.BigIntegerField(help_text="Wh")
    meter_stop = models.BigIntegerField(null=True, blank=True, help_text="Wh")
    started_at = models.DateTimeField(null=True, blank=True, help_text="Charger's clock")
    start_received_at = models.DateTimeField(default=timezone.now, help_text="Server's clock")
    stopped_at = models.DateTimeField(null=True, blank=True, help_text="Charger's clock")
    stop_received_at = models.DateTimeField(null=True, blank=True, help_text="Server's clock")
    stop_reason = models.CharField(max_length=32, blank=True, default="")
    stop_id_tag = models.CharField(max_length=20, blank=True, default="")
    closed_as_orphan = models.BooleanField(
        default=False, help_text="Stopped by the server because a newer one started"
    )
    notes = models.TextField(blank=True, default="", help_text="Anomalies seen")

    class Meta:
        ordering = ["-id"]
        indexes = [
            # Also counts a connector's recent starts (the charge-start loop check).
            models.Index(
                fields=["charge_point", "connector_id", "start_received_at"],
                name="charging_tx_cp_conn_start",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.charge_point_id}/{self.connector_id}"

    @property
    def is_open(self) -> bool:
        return self.stop_received_at is None


class Direction(models.TextChoices):
    IN = "in", "charge point → central system"
    OUT = "out", "central system → charge point"


class MessageTypeChoice(models.IntegerChoices):
    CALL = 2
    CALL_RESULT = 3
    CALL_ERROR = 4


class Message(models.Model):
    """One OCPP-J frame, in either direction, as received or sent."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    message_type = models.PositiveSmallIntegerField(
        choices=MessageTypeChoice.choices, null=True, blank=True
    )
    unique_id = models.CharField(max_length=64, blank=True, default="")
    action = models.CharField(max_length=64, blank=True, default="")
    payload = models.JSONField(null=True, blank=True)
    # Always the exact text of outbound frames (a redelivered event replays the same bytes);
    # for inbound frames only when they could not be parsed.
    raw = models.TextField(blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_description = models.TextField(blank=True, default="")
    error_details = models.JSONField(null=True, blank=True)
    answer_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="answers"
    )
    # The inbound envelope id: the processed-frame key that makes redeliveries harmless.
    frame_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    connection_id = models.CharField(max_length=64, blank=True, default="")
    note = models.TextField(blank=True, default="")
    # The soft schema violations lenient validation accepted ([{"rule": ..., "field": ...}]).
    violations = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True, help_text="Gateway's clock")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["charge_point", "direction", "unique_id"], name="charging_msg_cp_dir_uid"
            ),
            # The latest inbound CALL of a charge point (a charger's repeat is compared to it).
            models.Index(
                fields=["charge_point", "direction", "-id"], name="charging_msg_cp_dir_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_type} {self.unique_id} {self.action}"


class MeterValue(models.Model):
    """One sampledValue of a MeterValues.req or of StopTransaction.req transactionData."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="meter_values"
    )
    transaction = models.ForeignKey(
        Transaction, on_delete=models.CASCADE, null=True, blank=True, related_name="meter_values"
    )
    # The transactionId the charger sent when it matched no transaction of ours.
    reported_transaction_id = models.BigIntegerField(null=True, blank=True)
    connector_id = models.PositiveIntegerField()
    timestamp = models.DateTimeField(null=True, blank=True, help_text="Charger's clock")
    received_at = models.DateTimeField(default=timezone.now, help_text="Server's clock")
    value = models.TextField(help_text="As sent")
    numeric_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    context = models.CharField(max_length=32)
    format = models.CharField(max_length=16)
    measurand = models.CharField(max_length=48)
    phase = models.CharField(max_length=8, blank=True, default="")
    location = models.CharField(max_length=16)
    unit = models.CharField(max_length=16)
    source_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="meter_values"
    )
    # An energy register reading more than OCPP_METER_JUMP_WH away from the transaction's last
    # trusted reading (charging.meter_jumps); left out of the transaction's computed energy.
    energy_jump = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["transaction", "measurand"], name="charging_mv_tx_measurand"),
        ]
        constraints = [
            # A sample is what it is, whatever message carried it: a charger that gives up on a
            # CALL's unique id sends the same MeterValues again under a new one. The transaction
            # is coalesced so that samples outside one are unique too (NULLs are distinct);
            # a sample without a readable timestamp cannot be told apart and is never merged.
            # The value's hash: a charger whose clock stands still sends different readings
            # with one timestamp, and signed values are too long for an index.
            models.UniqueConstraint(
                "charge_point",
                "connector_id",
                Coalesce("transaction", "reported_transaction_id", models.Value(0)),
                "timestamp",
                "measurand",
                "phase",
                "location",
                "context",
                "format",
                "unit",
                MD5("value"),
                name="charging_mv_unique_sample",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.measurand} {self.value} {self.unit}"


class ConnectionRoute(models.Model):
    """Where the gateway holding a charge point's current connection takes messages (its AMQP
    reply queue): transport state of charging.dispatch, which alone reads and writes it, not the
    charge point's."""

    charge_point = models.OneToOneField(
        ChargePoint, on_delete=models.CASCADE, primary_key=True, related_name="route"
    )
    reply_to = models.CharField(max_length=255, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.charge_point_id} → {self.reply_to}"


class ConnectionEvent(models.Model):
    """A websocket of a charge point was accepted or closed by a gateway, or refused."""

    class Kind(models.TextChoices):
        CONNECT = "connect"
        DISCONNECT = "disconnect"
        REFUSED = "refused"  # a handshake refused for its credentials (close_code: HTTP status)

    # The reason of a disconnect the workers recorded because the connection's gateway lost
    # its presence lease (charging.services.presence), not because the socket closed.
    PRESENCE_EXPIRED = "gateway presence expired"

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="connection_events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    gateway_id = models.CharField(max_length=255, blank=True, default="")
    connection_id = models.CharField(max_length=64, blank=True, default="")
    remote = models.CharField(max_length=255, blank=True, default="")
    subprotocol = models.CharField(max_length=64, blank=True, default="")
    close_code = models.IntegerField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    frame_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    at = models.DateTimeField(default=timezone.now, help_text="Gateway's clock")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # A `refused` row stands for every refusal of its charge point from its address (`remote`,
    # no port) within OCPP_AUTH_FAILURE_WINDOW of `at`: one row per window, not per attempt.
    count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["charge_point", "kind", "at"], name="connevent_cp_kind_at")]

    def __str__(self) -> str:
        return f"{self.kind} {self.charge_point_id} {self.connection_id}"


class OutboundCallStatus(models.TextChoices):
    QUEUED = "queued"
    SENT = "sent"  # handed to the gateway
    ANSWERED = "answered"
    CALL_ERROR = "call_error"
    TIMEOUT = "timeout"
    OFFLINE = "offline"  # not connected, or the connection closed before an answer came
    CANCELLED = "cancelled"  # not sent: no longer wanted when its delay ran out


PENDING_CALL_STATUSES = (OutboundCallStatus.QUEUED, OutboundCallStatus.SENT)


class OutboundCall(models.Model):
    """A CALL the central system sends to a charge point, and what became of it."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="outbound_calls"
    )
    unique_id = models.CharField(max_length=36, unique=True)
    action = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=OutboundCallStatus.choices, default=OutboundCallStatus.QUEUED
    )
    response = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_description = models.TextField(blank=True, default="")
    # The registered flow the call is sent for, when not its action's own (e.g. AutoRemoteStart):
    # what it does when due, answered or ended (charging.services.outbound_actions).
    flow = models.CharField(max_length=64, blank=True, default="")
    requested_by = models.CharField(max_length=255, blank=True, default="")
    connection_id = models.CharField(max_length=64, blank=True, default="")
    delay = models.FloatField(default=0.0, help_text="Seconds before the gateway queues it")
    timeout = models.FloatField(default=30.0, help_text="Seconds to wait for the answer")
    # The inbound frame whose handling requested this call (replayed with its answer).
    source_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="triggered_calls"
    )
    # The CALL frame as handed to the gateway.
    message = models.OneToOneField(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbound_call"
    )
    # The `levity.send_call` task of a command; its outcome is kept by django-celery-results.
    task_id = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["charge_point", "status"], name="charging_call_cp_status"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.unique_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_CALL_STATUSES


class ConfigurationKey(models.Model):
    """A configuration key of a charge point as it last reported it (GetConfiguration.conf), or as
    we changed it (ChangeConfiguration accepted)."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="configuration_keys"
    )
    key = models.CharField(max_length=50)
    # GetConfiguration.conf `value` is optional: an unreported value differs from an empty one.
    value = models.TextField(null=True, blank=True)  # noqa: DJ001
    readonly = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["charge_point_id", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "key"], name="charging_configurationkey_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.charge_point_id} {self.key}={self.value}"


class ReservationStatus(models.TextChoices):
    REQUESTED = "Requested"  # ReserveNow sent, no answer yet
    # ReserveNow.conf statuses (OCPP 1.6 §7.45 ReservationStatus); Accepted: the reservation holds
    ACCEPTED = "Accepted"
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"
    # What became of an accepted one.
    CANCELLED = "Cancelled"  # CancelReservation accepted
    USED = "Used"  # a StartTransaction carried its reservationId
    EXPIRED = "Expired"  # its expiryDate passed unused


class Reservation(models.Model):
    """A reservation of a connector (0: any connector) for an idTag until `expiry_date` (OCPP
    1.6 §3.10, ReserveNow); its integer primary key is the OCPP reservationId."""

    ACTIVE_STATUSES = (ReservationStatus.REQUESTED, ReservationStatus.ACCEPTED)

    id = models.AutoField(primary_key=True)
    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="reservations"
    )
    connector_id = models.PositiveIntegerField()
    id_tag = models.CharField(max_length=20)
    parent_id_tag = models.CharField(max_length=20, blank=True, default="")
    expiry_date = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=ReservationStatus.choices, default=ReservationStatus.REQUESTED
    )
    # The last ReserveNow sent for it, and the transaction that used it.
    call = models.ForeignKey(
        OutboundCall, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    transaction = models.OneToOneField(
        Transaction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="used_reservation",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "expiry_date"], name="charging_reservation_due"),
        ]

    def __str__(self) -> str:
        return f"reservation {self.id} {self.charge_point_id}/{self.connector_id} ({self.status})"


class SecurityEvent(models.Model):
    """A SecurityEventNotification.req (OCPP 1.6 security extension, §2.4 and its Appendix 1:
    the list of security events, the critical ones flagged)."""

    CRITICAL_TYPES = frozenset(
        {
            "FirmwareUpdated",
            "SettingSystemTime",
            "StartupOfTheDevice",
            "ResetOrReboot",
            "SecurityLogWasCleared",
            "MemoryExhaustion",
            "TamperDetectionActivated",
        }
    )

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="security_events"
    )
    type = models.CharField(max_length=50)
    tech_info = models.CharField(max_length=255, blank=True, default="")
    timestamp = models.DateTimeField(null=True, blank=True, help_text="Charger's clock")
    received_at = models.DateTimeField(default=timezone.now, help_text="Server's clock")
    critical = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["charge_point", "received_at"], name="charging_secevent_cp_at"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.charge_point_id}"


class JobKind(models.TextChoices):
    FIRMWARE = "firmware", "UpdateFirmware"
    DIAGNOSTICS = "diagnostics", "GetDiagnostics"
    SIGNED_FIRMWARE = "signed_firmware", "SignedUpdateFirmware"
    LOG = "log", "GetLog"


class ChargerJob(models.Model):
    """A firmware update, diagnostics or log upload asked of a charge point, followed through
    its status notifications (requested → downloading → installed / failed; uploading →
    uploaded / failed). GetLog and SignedUpdateFirmware name it by `request_id` (our primary key
    when we chose it); the 1.6 Core ones have no id: a charger runs one of each kind at a time."""

    charge_point = models.ForeignKey(ChargePoint, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=16, choices=JobKind.choices)
    request_id = models.IntegerField(null=True, blank=True)
    location = models.CharField(max_length=512, blank=True, default="")
    status = models.CharField(max_length=32, default="Requested")
    file_name = models.CharField(max_length=255, blank=True, default="")
    finished = models.BooleanField(default=False)
    # [{"status": ..., "at": ISO time}, ...]: every status, ours and the charger's, in order.
    history = models.JSONField(default=list, blank=True)
    call = models.ForeignKey(
        OutboundCall, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["charge_point", "kind", "finished"], name="charging_job_current"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.charge_point_id} ({self.status})"


class InstalledCertificate(models.Model):
    """A certificate a charge point holds (security extension), named by its OCPP
    certificateHashData; `certificate` is the PEM when it was installed through us."""

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="installed_certificates"
    )
    certificate_type = models.CharField(max_length=40)  # CertificateUseEnumType
    hash_algorithm = models.CharField(max_length=8)
    issuer_name_hash = models.CharField(max_length=128)
    issuer_key_hash = models.CharField(max_length=128)
    serial_number = models.CharField(max_length=40)
    certificate = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["charge_point_id", "certificate_type", "serial_number"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "charge_point",
                    "hash_algorithm",
                    "issuer_name_hash",
                    "issuer_key_hash",
                    "serial_number",
                ],
                name="charging_installedcertificate_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.certificate_type} {self.serial_number} on {self.charge_point_id}"

    def hash_data(self) -> dict[str, str]:
        return {
            "hashAlgorithm": self.hash_algorithm,
            "issuerNameHash": self.issuer_name_hash,
            "issuerKeyHash": self.issuer_key_hash,
            "serialNumber": self.serial_number,
        }


class ChargingProfilePurpose(models.TextChoices):
    """ChargingProfilePurposeType (OCPP 1.6 §7.10)."""

    CHARGE_POINT_MAX = "ChargePointMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class ChargingProfileKind(models.TextChoices):
    """ChargingProfileKindType (OCPP 1.6 §7.9)."""

    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RecurrencyKind(models.TextChoices):
    DAILY = "Daily"
    WEEKLY = "Weekly"


class ChargingRateUnit(models.TextChoices):
    AMPERES = "A"
    WATTS = "W"


class ChargingProfileStatus(models.TextChoices):
    """Our view of a profile on the charger (charging.services.charging_profiles)."""

    REQUESTED = "Requested"  # sent (SetChargingProfile, RemoteStartTransaction), no answer yet
    INSTALLED = "Installed"  # the charger accepted it
    REJECTED = "Rejected"  # answered Rejected / NotSupported, or CALLERROR
    UNCONFIRMED = "Unconfirmed"  # no answer (timeout, connection lost): the charger may hold it
    REPLACED = "Replaced"  # a newer one with its id, or its stackLevel + purpose, was installed
    CLEARED = "Cleared"  # an accepted ClearChargingProfile matched it
    ENDED = "Ended"  # a TxProfile whose transaction stopped (OCPP 1.6 §3.13.1)


class ChargingProfile(models.Model):
    """A charging profile sent to a charge point (OCPP 1.6 §3.13, SetChargingProfile, or the
    chargingProfile of a RemoteStartTransaction), and what became of it. One row per request:
    rows replaced or cleared stay as history; at most one installed row per chargingProfileId,
    and per connector + purpose + stackLevel, on a charge point (§5.16: a new one replaces)."""

    LIVE_STATUSES = (
        ChargingProfileStatus.REQUESTED,
        ChargingProfileStatus.INSTALLED,
        ChargingProfileStatus.UNCONFIRMED,
    )

    charge_point = models.ForeignKey(
        ChargePoint, on_delete=models.CASCADE, related_name="charging_profiles"
    )
    # 0: the whole charge point. None: a RemoteStartTransaction without connectorId, until
    # its StartTransaction says which connector the charger chose.
    connector_id = models.PositiveIntegerField(null=True, blank=True)
    charging_profile_id = models.IntegerField(help_text="chargingProfileId")
    stack_level = models.PositiveIntegerField()
    purpose = models.CharField(max_length=24, choices=ChargingProfilePurpose.choices)
    kind = models.CharField(max_length=16, choices=ChargingProfileKind.choices)
    recurrency_kind = models.CharField(
        max_length=8, choices=RecurrencyKind.choices, blank=True, default=""
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)
    # TxProfile: the transaction it limits (its transactionId, or the one its
    # RemoteStartTransaction started); it ends with that transaction.
    transaction = models.ForeignKey(
        Transaction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="charging_profiles",
    )
    # chargingSchedule (OCPP 1.6 §7.13)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="seconds")
    start_schedule = models.DateTimeField(null=True, blank=True)
    charging_rate_unit = models.CharField(max_length=1, choices=ChargingRateUnit.choices)
    min_charging_rate = models.FloatField(null=True, blank=True)
    # [{"startPeriod": s, "limit": x, "numberPhases": n?}, ...] as sent
    schedule_periods = models.JSONField(default=list, blank=True)

    status = models.CharField(
        max_length=16,
        choices=ChargingProfileStatus.choices,
        default=ChargingProfileStatus.REQUESTED,
    )
    answer = models.CharField(
        max_length=64, blank=True, default="", help_text="The charger's status, or CALLERROR code"
    )
    # The call that set it (SetChargingProfile, or RemoteStartTransaction), and the one that
    # cleared it.
    call = models.ForeignKey(
        OutboundCall, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cleared_by = models.ForeignKey(
        OutboundCall, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge_point", "charging_profile_id"],
                condition=models.Q(status="Installed"),
                name="charging_profile_installed_id_unique",
            ),
            models.UniqueConstraint(
                fields=["charge_point", "connector_id", "purpose", "stack_level"],
                condition=models.Q(status="Installed"),
                name="charging_profile_installed_stack_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["charge_point", "status"], name="charging_profile_cp_status"),
        ]

    def __str__(self) -> str:
        where = "?" if self.connector_id is None else self.connector_id
        return (
            f"profile {self.charging_profile_id} {self.purpose} level {self.stack_level} "
            f"on {self.charge_point_id}/{where} ({self.status})"
        )


class FullMatchValidator(RegexValidator):
    """A RegexValidator whose `$` is the end of the value, as in the OpenAPI schema's pattern
    (Python's `$` also matches before a final newline)."""

    def __call__(self, value: object) -> None:
        if self.regex.fullmatch(str(value)) is None:
            raise ValidationError(self.message, code=self.code, params={"value": value})


# http:// or https://, a host, no spaces or control characters (the API's schema says the same).
WEBHOOK_URL_PATTERN = "^https?://[^\\u0000-\\u0020/?#]+[^\\u0000-\\u0020]*$"


class Webhook(models.Model):
    """An HTTP endpoint that receives the domain events it subscribes to (docs/events.md)."""

    url = models.CharField(
        max_length=2000,
        validators=[FullMatchValidator(WEBHOOK_URL_PATTERN, "An http:// or https:// URL.")],
        help_text="http:// or https://; each event is POSTed to it",
    )
    events = models.JSONField(
        default=list, help_text='Event names, e.g. ["transaction.started"] (docs/events.md)'
    )
    secret = models.CharField(
        max_length=255, help_text="Key of the HMAC-SHA256 signature (X-Levity-Signature)"
    )
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"webhook {self.pk} → {self.url}"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending"  # not sent yet, or retrying
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # refused (4xx), or still failing when its retry time ran out


class WebhookDelivery(models.Model):
    """One event for one webhook: its exact body, and how sending it went. Written in the
    transaction of the event's effect (an outbox), sent in order per webhook."""

    # No database constraint: a webhook deleted while a worker still has it in its cache of
    # subscriptions must not fail the charger's transaction that records an event for it; the
    # sender deletes deliveries whose webhook is gone. Django still cascades deletes.
    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False
    )
    event_id = models.UUIDField(help_text="The event's id: the same for every webhook")
    event = models.CharField(max_length=64)
    body = models.TextField(help_text="The exact JSON posted and signed")
    status = models.CharField(
        max_length=16,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Retries end this long (OCPP_WEBHOOK_RETRY_FOR) after it; "send again" resets it.
    queued_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "event_id"], name="webhook_delivery_event_unique"
            )
        ]
        indexes = [
            # The sender's "oldest pending delivery of this webhook", and the sweep's due ones.
            models.Index(
                fields=["webhook", "id"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_pending",
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.event_id} → webhook {self.webhook_id} ({self.status})"
