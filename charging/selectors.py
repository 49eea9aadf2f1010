"""Reads of the charging domain: keyword-only, typed, no side effects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import (
    Case,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from . import conf
from .models import (
    PENDING_CALL_STATUSES,
    ChargePoint,
    ChargerJob,
    ChargingProfile,
    ConfigurationKey,
    ConnectionEvent,
    Direction,
    IdTag,
    Message,
    MessageTypeChoice,
    MeterValue,
    OutboundCall,
    Reservation,
    Transaction,
    ValidationMode,
    Webhook,
)

ENERGY_REGISTER = "Energy.Active.Import.Register"


def validation_mode_default() -> str:
    """OCPP_VALIDATION, checked (ImproperlyConfigured names a bad value)."""
    mode = str(conf.get("OCPP_VALIDATION")).strip().lower()
    if mode not in ValidationMode.values:
        raise ImproperlyConfigured(
            f"OCPP_VALIDATION={mode!r}: use one of {', '.join(ValidationMode.values)}"
        )
    return mode


def charge_point_validation_mode(*, charge_point: ChargePoint) -> str:
    """How this charge point's payloads are validated: its own setting, else OCPP_VALIDATION."""
    return charge_point.validation or validation_mode_default()


def charge_point_soft_violation_count(*, charge_point: ChargePoint) -> int:
    """How many of its frames had soft violations (accepted by lenient validation)."""
    return Message.objects.filter(charge_point=charge_point, violations__isnull=False).count()


def charge_point_get(*, charge_point_id: str) -> ChargePoint | None:
    return ChargePoint.objects.filter(id=charge_point_id).first()


def id_tag_get(*, id_tag: str) -> IdTag | None:
    # IdToken is case insensitive (OCPP 1.6 IdToken type).
    return IdTag.objects.select_related("parent").filter(id_tag__iexact=id_tag).first()


def transaction_list_open(*, charge_point: ChargePoint, connector_id: int) -> QuerySet[Transaction]:
    return Transaction.objects.filter(
        charge_point=charge_point, connector_id=connector_id, stop_received_at__isnull=True
    ).order_by("id")


@dataclass(frozen=True)
class StartKey:
    """What makes two StartTransaction.req the same start (a charger's retry): the one rule,
    as a lookup (`lookups`) and for a row already read (`made`)."""

    id_tag: str
    meter_start: int
    timestamp: datetime | None

    def lookups(self) -> dict[str, Any]:
        started = (
            {"started_at": self.timestamp}
            if self.timestamp is not None
            else {"started_at__isnull": True}
        )
        return {"id_tag": self.id_tag, "meter_start": self.meter_start, **started}

    def made(self, transaction: Transaction) -> bool:
        return (transaction.id_tag, transaction.meter_start, transaction.started_at) == (
            self.id_tag,
            self.meter_start,
            self.timestamp,
        )


def transaction_find_start(
    *, charge_point: ChargePoint, connector_id: int, start: StartKey
) -> Transaction | None:
    """The transaction an identical StartTransaction.req already created (a charger's retry)."""
    return (
        Transaction.objects.filter(
            charge_point=charge_point, connector_id=connector_id, **start.lookups()
        )
        .order_by("id")
        .first()
    )


def _energy_readings() -> QuerySet[MeterValue]:
    """Trusted energy register readings (flagged jumps left out), latest first, each with `wh`.

    A reading without phase is the total; per-phase readings come after every total one, so they
    count only when nothing else exists.
    """
    return (
        MeterValue.objects.filter(
            measurand=ENERGY_REGISTER,
            unit__in=("Wh", "kWh"),
            numeric_value__isnull=False,
            energy_jump=False,
        )
        .annotate(
            wh=Case(
                When(unit="kWh", then=F("numeric_value") * 1000),
                default=F("numeric_value"),
                output_field=DecimalField(max_digits=24, decimal_places=6),
            ),
            phased=Case(When(phase="", then=Value(0)), default=Value(1)),
        )
        .order_by("phased", F("timestamp").desc(nulls_last=True), "-id")
    )


def transaction_last_energy_wh(*, transaction: Transaction) -> int | None:
    """The last trusted Energy.Active.Import.Register reading of a transaction, in Wh."""
    sample = _energy_readings().filter(transaction=transaction).first()
    if sample is None:
        return None
    wh: Decimal = sample.wh
    return int(wh)


def message_get_by_frame_id(*, frame_id: str) -> Message | None:
    return Message.objects.filter(frame_id=frame_id).first()


def message_get_answer(*, message: Message) -> Message | None:
    """The frame we sent in answer to an inbound CALL."""
    return message.answers.filter(direction=Direction.OUT).order_by("id").first()


def message_get_latest_call(
    *,
    charge_point: ChargePoint,
    unique_id: str | None = None,
    action: str | None = None,
    before: Message | None = None,
) -> Message | None:
    """The charge point's most recent inbound CALL (with this unique id and action; stored
    before `before`)."""
    calls = Message.objects.filter(
        charge_point=charge_point, direction=Direction.IN, message_type=MessageTypeChoice.CALL
    )
    if before is not None:
        calls = calls.filter(id__lt=before.pk)
    if unique_id is not None:
        calls = calls.filter(unique_id=unique_id)
    if action is not None:
        calls = calls.filter(action=action)
    return calls.order_by("-id").first()


def connection_event_exists(*, frame_id: str) -> bool:
    return ConnectionEvent.objects.filter(frame_id=frame_id).exists()


def connection_presence_expired(*, charge_point: ChargePoint, connection_id: str) -> bool:
    """Whether `connection_id` was last taken offline by its gateway's expired presence lease
    (charging.services.presence) rather than closed."""
    reason = (
        ConnectionEvent.objects.filter(
            charge_point=charge_point,
            connection_id=connection_id,
            kind=ConnectionEvent.Kind.DISCONNECT,
        )
        .order_by("-id")
        .values_list("reason", flat=True)
        .first()
    )
    return reason == ConnectionEvent.PRESENCE_EXPIRED


def outbound_call_get(*, charge_point: ChargePoint, unique_id: str) -> OutboundCall | None:
    return (
        OutboundCall.objects.select_related("message")
        .filter(charge_point=charge_point, unique_id=unique_id)
        .first()
    )


def outbound_call_list_pending(
    *, charge_point: ChargePoint, connection_id: str | None = None
) -> QuerySet[OutboundCall]:
    calls = OutboundCall.objects.filter(charge_point=charge_point, status__in=PENDING_CALL_STATUSES)
    if connection_id is not None:
        calls = calls.filter(connection_id=connection_id)
    return calls.order_by("id")


def authorization_key_changes_pending(*, charge_point: ChargePoint) -> QuerySet[OutboundCall]:
    """The ChangeConfiguration AuthorizationKey calls handed over for sending (their CALL frame
    recorded) and not answered yet: their payload still holds the new key (it is redacted when
    they end). Newest first."""
    return (
        outbound_call_list_pending(charge_point=charge_point)
        .filter(
            action="ChangeConfiguration",
            payload__key__iexact="AuthorizationKey",
            message__isnull=False,
        )
        .order_by("-id")
    )


def outbound_call_list_for_message(*, message: Message) -> QuerySet[OutboundCall]:
    """The calls the handling of one inbound frame requested, in the order requested."""
    return (
        OutboundCall.objects.select_related("message").filter(source_message=message).order_by("id")
    )


# --- Reads for the HTTP API and the admin ---


def charge_point_list() -> QuerySet[ChargePoint]:
    return ChargePoint.objects.prefetch_related("connectors").order_by("id")


def charge_point_online_cutoff(*, now: datetime | None = None) -> datetime:
    """A connected charge point last heard from before this moment counts as offline.

    Chargers send a Heartbeat every interval we gave them in BootNotification.conf (OCPP 1.6
    §4.6), so two missed heartbeats plus a margin mean the connection is dead even when no
    disconnect was reported (e.g. its gateway died, or a NAT dropped the socket silently).
    """
    seconds = 2 * float(conf.get("OCPP_HEARTBEAT_INTERVAL")) + float(
        conf.get("OCPP_PRESENCE_MARGIN")
    )
    return (now or timezone.now()) - timedelta(seconds=seconds)


def charge_point_last_seen(*, charge_point: ChargePoint) -> datetime | None:
    """When the charge point last showed it was there: a frame, a heartbeat or a connect."""
    moments = [
        moment
        for moment in (
            charge_point.last_message_at,
            charge_point.last_heartbeat_at,
            charge_point.last_connect_at,
        )
        if moment is not None
    ]
    return max(moments, default=None)


def charge_point_is_online(*, charge_point: ChargePoint, now: datetime | None = None) -> bool:
    """Connected, and heard from recently (see `charge_point_online_cutoff`)."""
    seen = charge_point_last_seen(charge_point=charge_point)
    return (
        charge_point.connected and seen is not None and seen >= charge_point_online_cutoff(now=now)
    )


def charge_point_online_q(*, now: datetime | None = None) -> Q:
    """`charge_point_is_online` as a filter on ChargePoint rows; ~Q(...) is the offline ones."""
    cutoff = charge_point_online_cutoff(now=now)
    return Q(connected=True) & (
        Q(last_message_at__gte=cutoff)
        | Q(last_heartbeat_at__gte=cutoff)
        | Q(last_connect_at__gte=cutoff)
    )


def charge_point_list_overview() -> QuerySet[ChargePoint]:
    """Charge points with their connectors and open transactions (`open_transactions`) fetched
    in two more queries, whatever their number."""
    return ChargePoint.objects.prefetch_related(
        "connectors",
        Prefetch(
            "transactions",
            queryset=Transaction.objects.filter(stop_received_at__isnull=True).order_by("id"),
            to_attr="open_transactions",
        ),
    ).order_by("id")


def transaction_list_with_energy() -> QuerySet[Transaction]:
    """Transactions annotated with `energy_wh` (as `transaction_energy_wh` computes it) and
    `duration` (stopped_at - started_at, charger's clock; None while open), in one query."""
    last_wh = Subquery(_energy_readings().filter(transaction=OuterRef("pk")).values("wh")[:1])
    energy = DecimalField(max_digits=24, decimal_places=6)
    return Transaction.objects.annotate(
        energy_wh=Case(
            When(
                meter_stop__isnull=False,
                then=ExpressionWrapper(
                    F("meter_stop") - F("meter_start"), output_field=IntegerField()
                ),
            ),
            default=ExpressionWrapper(last_wh - F("meter_start"), output_field=energy),
            output_field=energy,
        ),
        duration=ExpressionWrapper(F("stopped_at") - F("started_at"), output_field=DurationField()),
    )


def transaction_list(
    *, charge_point_id: str | None = None, active: bool | None = None
) -> QuerySet[Transaction]:
    """Transactions, newest first; `active` keeps only open (True) or only stopped (False) ones."""
    transactions = Transaction.objects.all()
    if charge_point_id is not None:
        transactions = transactions.filter(charge_point_id=charge_point_id)
    if active is not None:
        transactions = transactions.filter(stop_received_at__isnull=active)
    return transactions.order_by("-id")


def transaction_energy_wh(*, transaction: Transaction) -> int | None:
    """Energy delivered in Wh: meter_stop - meter_start once stopped, else from the latest register."""
    if transaction.meter_stop is not None:
        return transaction.meter_stop - transaction.meter_start
    latest = transaction_last_energy_wh(transaction=transaction)
    return None if latest is None else latest - transaction.meter_start


def meter_value_list(*, transaction: Transaction) -> QuerySet[MeterValue]:
    """A transaction's sampled values in the order the charger took them."""
    return MeterValue.objects.filter(transaction=transaction).order_by("timestamp", "id")


def id_tag_list() -> QuerySet[IdTag]:
    return IdTag.objects.select_related("parent").order_by("id_tag")


def outbound_call_list(
    *,
    charge_point_id: str | None = None,
    status: str | None = None,
    action: str | None = None,
    unique_id: str | None = None,
) -> QuerySet[OutboundCall]:
    """Outbound calls, newest first, optionally filtered."""
    calls = OutboundCall.objects.all()
    if charge_point_id is not None:
        calls = calls.filter(charge_point_id=charge_point_id)
    if status is not None:
        calls = calls.filter(status=status)
    if action is not None:
        calls = calls.filter(action=action)
    if unique_id is not None:
        calls = calls.filter(unique_id=unique_id)
    return calls.order_by("-id")


def outbound_call_is_stale(*, call: OutboundCall, now: datetime | None = None) -> bool:
    """Whether a pending call should have ended long ago (e.g. its gateway died): still queued
    or sent OCPP_CALL_GRACE seconds after created + delay + timeout."""
    limit = call.delay + call.timeout + float(conf.get("OCPP_CALL_GRACE"))
    return call.is_pending and call.created_at + timedelta(seconds=limit) < (now or timezone.now())


def _given(queryset: QuerySet, **lookups: object) -> QuerySet:
    """`queryset` filtered on each lookup given (neither None nor empty)."""
    return queryset.filter(**{k: v for k, v in lookups.items() if v is not None and v != ""})


def reservation_list(
    *, charge_point_id: str | None = None, status: str | None = None
) -> QuerySet[Reservation]:
    return _given(
        Reservation.objects.order_by("-id"), charge_point_id=charge_point_id, status=status
    )


def configuration_key_int(*, charge_point: ChargePoint, key: str) -> int | None:
    """A configuration key the charger reported, as an integer; None when unknown or not one."""
    value = (
        ConfigurationKey.objects.filter(charge_point=charge_point, key=key)
        .values_list("value", flat=True)
        .first()
    )
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def job_list(
    *, charge_point_id: str | None = None, kind: str | None = None, finished: bool | None = None
) -> QuerySet[ChargerJob]:
    return _given(
        ChargerJob.objects.order_by("-id"),
        charge_point_id=charge_point_id,
        kind=kind,
        finished=finished,
    )


def charging_profile_list(
    *,
    charge_point_id: str | None = None,
    status: str | None = None,
    purpose: str | None = None,
    connector_id: int | None = None,
) -> QuerySet[ChargingProfile]:
    """Our view of the charging profiles sent to chargers, newest first."""
    return _given(
        ChargingProfile.objects.order_by("-id"),
        charge_point_id=charge_point_id,
        status=status,
        purpose=purpose,
        connector_id=connector_id,
    )


def webhook_list() -> QuerySet[Webhook]:
    return Webhook.objects.order_by("id")


def webhook_get(*, webhook_id: object) -> Webhook | None:
    """The webhook with this id; None for an unknown or malformed one."""
    try:
        return Webhook.objects.filter(id=int(str(webhook_id))).first()
    except (TypeError, ValueError, OverflowError):
        return None
