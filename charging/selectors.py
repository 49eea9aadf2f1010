"""Reads of the charging domain: keyword-only, typed, no side effects."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from . import conf
from .models import (
    PENDING_CALL_STATUSES,
    ChargePoint,
    ConnectionEvent,
    Direction,
    IdTag,
    Message,
    MessageTypeChoice,
    MeterValue,
    OutboundCall,
    Transaction,
)

ENERGY_REGISTER = "Energy.Active.Import.Register"


def charge_point_get(*, charge_point_id: str) -> ChargePoint | None:
    return ChargePoint.objects.filter(id=charge_point_id).first()


def id_tag_get(*, id_tag: str) -> IdTag | None:
    # IdToken is case insensitive (OCPP 1.6 IdToken type).
    return IdTag.objects.select_related("parent").filter(id_tag__iexact=id_tag).first()


def transaction_get(*, charge_point: ChargePoint, transaction_id: int) -> Transaction | None:
    return Transaction.objects.filter(charge_point=charge_point, id=transaction_id).first()


def transaction_list_open(*, charge_point: ChargePoint, connector_id: int) -> QuerySet[Transaction]:
    return Transaction.objects.filter(
        charge_point=charge_point, connector_id=connector_id, stop_received_at__isnull=True
    ).order_by("id")


def transaction_find_start(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    id_tag: str,
    meter_start: int,
    timestamp: datetime | None,
) -> Transaction | None:
    """The transaction an identical StartTransaction.req already created (a charger's retry)."""
    started = {"started_at": timestamp} if timestamp is not None else {"started_at__isnull": True}
    return (
        Transaction.objects.filter(
            charge_point=charge_point,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start=meter_start,
            **started,
        )
        .order_by("id")
        .first()
    )


def transaction_last_energy_wh(*, transaction: Transaction) -> int | None:
    """The last Energy.Active.Import.Register reading of a transaction, in Wh."""
    samples = MeterValue.objects.filter(
        transaction=transaction,
        measurand=ENERGY_REGISTER,
        unit__in=("Wh", "kWh"),
        numeric_value__isnull=False,
    )
    # A reading without phase is the total; per-phase readings only when nothing else exists.
    sample = (
        samples.filter(phase="").order_by("-timestamp", "-id").first()
        or samples.order_by("-timestamp", "-id").first()
    )
    if sample is None or sample.numeric_value is None:
        return None
    wh: Decimal = sample.numeric_value * (1000 if sample.unit == "kWh" else 1)
    return int(wh)


def message_get_by_frame_id(*, frame_id: str) -> Message | None:
    return Message.objects.filter(frame_id=frame_id).first()


def message_get_answer(*, message: Message) -> Message | None:
    """The frame we sent in answer to an inbound CALL."""
    return message.answers.filter(direction=Direction.OUT).order_by("id").first()


def message_get_latest_call(*, charge_point: ChargePoint) -> Message | None:
    """The charge point's most recent inbound CALL."""
    return (
        Message.objects.filter(
            charge_point=charge_point,
            direction=Direction.IN,
            message_type=MessageTypeChoice.CALL,
        )
        .order_by("-id")
        .first()
    )


def connection_event_exists(*, frame_id: str) -> bool:
    return ConnectionEvent.objects.filter(frame_id=frame_id).exists()


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


def outbound_call_list_for_message(*, message: Message) -> QuerySet[OutboundCall]:
    """The calls the handling of one inbound frame requested, in the order requested."""
    return (
        OutboundCall.objects.select_related("message").filter(source_message=message).order_by("id")
    )


# --- Reads for the HTTP API and the admin ---


def charge_point_list() -> QuerySet[ChargePoint]:
    return ChargePoint.objects.prefetch_related("connectors").order_by("id")


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
