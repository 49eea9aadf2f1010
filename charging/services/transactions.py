"""Transactions: start, stop, and the close of orphans."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.utils import timezone

from .. import events, selectors
from ..models import ChargePoint, Message, Transaction
from .auto_remote_start import connector_transaction_loop_check
from .charging_profiles import charging_profile_bind, charging_profiles_end
from .messages import _append_note
from .meter_values import meter_values_record
from .reservations import reservation_use

logger = logging.getLogger(__name__)


# StopTransaction.req `reason` may only be omitted when it is Local (OCPP 1.6 §4.10, StopTransaction.req).
DEFAULT_STOP_REASON = "Local"
ORPHAN_STOP_REASON = "Other"


# --- transactions ---------------------------------------------------------------------------


def transaction_start(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    id_tag: str,
    meter_start: int,
    timestamp: datetime | None,
    reservation_id: int | None = None,
    id_tag_status: str = "",
    received_at: datetime | None = None,
) -> Transaction:
    """Open a transaction; an identical StartTransaction.req (a retry) returns the one it made.
    A `reservation_id` ends that reservation as used by it; the TxProfile of the
    RemoteStartTransaction that asked for it becomes its own."""
    existing = selectors.transaction_find_start(
        charge_point=charge_point,
        connector_id=connector_id,
        start=selectors.StartKey(id_tag=id_tag, meter_start=meter_start, timestamp=timestamp),
    )
    if existing is not None:
        return existing
    transaction = Transaction.objects.create(
        charge_point=charge_point,
        connector_id=connector_id,
        id_tag=id_tag,
        id_tag_status=id_tag_status,
        meter_start=meter_start,
        started_at=timestamp,
        start_received_at=received_at or timezone.now(),
        reservation_id=reservation_id,
        notes="" if timestamp is not None else "charger sent no readable start timestamp",
    )
    if reservation_id is not None:
        reservation_use(
            charge_point=charge_point, reservation_id=reservation_id, transaction=transaction
        )
    charging_profile_bind(transaction=transaction)
    connector_transaction_loop_check(
        charge_point=charge_point, connector_id=connector_id, at=transaction.start_received_at
    )
    events.emit("transaction.started", charge_point=charge_point, transaction=transaction)
    return transaction


def transaction_close_orphans(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    starting: selectors.StartKey | None = None,
    at: datetime | None = None,
) -> list[Transaction]:
    """Close transactions still open on a connector where a new one starts (its StopTransaction
    was lost): reason Other, meterStop the last energy register reading, else meterStart.
    The one `starting` made stays open: the start is a charger's retry of it."""
    at = at or timezone.now()
    closed = []
    open_transactions = selectors.transaction_list_open(
        charge_point=charge_point, connector_id=connector_id
    ).select_for_update()
    for transaction in open_transactions:
        if starting is not None and starting.made(transaction):
            continue
        last_wh = selectors.transaction_last_energy_wh(transaction=transaction)
        transaction.meter_stop = last_wh if last_wh is not None else transaction.meter_start
        transaction.stop_reason = ORPHAN_STOP_REASON
        transaction.stop_received_at = at
        transaction.closed_as_orphan = True
        transaction.notes = _append_note(
            transaction.notes, "closed as orphan: a new transaction started on its connector"
        )
        transaction.save(
            update_fields=[
                "meter_stop",
                "stop_reason",
                "stop_received_at",
                "closed_as_orphan",
                "notes",
            ]
        )
        charging_profiles_end(transaction=transaction, at=at)
        logger.warning("%s: closed orphaned transaction %s", charge_point.id, transaction.id)
        events.emit("transaction.stopped", charge_point=charge_point, transaction=transaction)
        closed.append(transaction)
    return closed


def transaction_stop(
    *,
    charge_point: ChargePoint,
    transaction_id: int,
    meter_stop: int,
    timestamp: datetime | None,
    reason: str = DEFAULT_STOP_REASON,
    id_tag: str = "",
    transaction_data: list[dict[str, Any]] | None = None,
    source_message: Message | None = None,
    received_at: datetime | None = None,
) -> Transaction | None:
    """Stop a transaction. Never raises for the charger's inconsistencies: an unknown or already
    stopped transactionId is recorded as an anomaly and never stops anything a second time."""
    received_at = received_at or timezone.now()
    transaction = (
        Transaction.objects.select_for_update()
        .filter(charge_point=charge_point, id=transaction_id)
        .first()
    )
    if transaction is None:
        note = f"StopTransaction for unknown transactionId {transaction_id}"
        logger.warning("%s: %s", charge_point.id, note)
        if source_message is not None:
            source_message.note = _append_note(source_message.note, note)
            source_message.save(update_fields=["note"])
        if transaction_data:
            meter_values_record(
                charge_point=charge_point,
                connector_id=0,
                meter_values=transaction_data,
                transaction_id=transaction_id,
                source_message=source_message,
                received_at=received_at,
            )
        return None

    if not transaction.is_open and not transaction.closed_as_orphan:
        same = transaction.meter_stop == meter_stop and transaction.stopped_at == timestamp
        if not same:
            transaction.notes = _append_note(
                transaction.notes,
                f"second StopTransaction ignored (meterStop {meter_stop}, reason {reason})",
            )
            transaction.save(update_fields=["notes"])
        logger.warning("%s: transaction %s already stopped", charge_point.id, transaction.id)
        return transaction

    if transaction.closed_as_orphan:
        # Our orphan close was a guess; the charger's own (late) StopTransaction is the truth.
        transaction.closed_as_orphan = False
        transaction.notes = _append_note(
            transaction.notes, "late StopTransaction replaced the orphan close"
        )
    transaction.meter_stop = meter_stop
    transaction.stopped_at = timestamp
    transaction.stop_received_at = received_at
    transaction.stop_reason = reason or DEFAULT_STOP_REASON
    transaction.stop_id_tag = id_tag
    if timestamp is None:
        transaction.notes = _append_note(
            transaction.notes, "charger sent no readable stop timestamp"
        )
    transaction.save(
        update_fields=[
            "meter_stop",
            "stopped_at",
            "stop_received_at",
            "stop_reason",
            "stop_id_tag",
            "closed_as_orphan",
            "notes",
        ]
    )
    charging_profiles_end(transaction=transaction, at=received_at)
    events.emit("transaction.stopped", charge_point=charge_point, transaction=transaction)
    if transaction_data:
        meter_values_record(
            charge_point=charge_point,
            connector_id=transaction.connector_id,
            meter_values=transaction_data,
            transaction_id=transaction.id,
            source_message=source_message,
            received_at=received_at,
        )
    return transaction
