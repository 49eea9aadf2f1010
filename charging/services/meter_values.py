"""Meter values: one row per sampledValue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.db.models.constants import OnConflict
from django.utils import timezone

from .. import events, meter_jumps
from ..clock import parse_charger_time
from ..models import ChargePoint, Message, MeterValue, Transaction
from .messages import _append_note, clean_text

# Defaults of an omitted sampledValue field (OCPP 1.6 SampledValue type).
SAMPLED_VALUE_DEFAULTS = {
    "context": "Sample.Periodic",
    "format": "Raw",
    "measurand": "Energy.Active.Import.Register",
    "location": "Outlet",
    "unit": "Wh",
}

_NUMERIC_LIMIT = Decimal(10) ** 14  # MeterValue.numeric_value: 20 digits, 6 of them decimals
_NUMERIC_STEP = Decimal("0.000001")


# --- meter values ---------------------------------------------------------------------------


def _numeric(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) >= _NUMERIC_LIMIT:
        return None
    return number.quantize(_NUMERIC_STEP)


def meter_values_record(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    meter_values: Iterable[dict[str, Any]],
    transaction_id: int | None = None,
    source_message: Message | None = None,
    received_at: datetime | None = None,
) -> int:
    """Store one row per sampledValue (OCPP 1.6 §4.7), with the spec's defaults applied; returns
    how many were new.

    Linked to the transaction when `transaction_id` names one of this charge point's, else only
    to the connector (keeping the reported id). A sample already stored (the same message again,
    or its copy under a new unique id: charging_mv_unique_sample) is not stored again, and the
    repeat is noted on `source_message`.
    """
    received_at = received_at or timezone.now()
    rows = _rows(
        charge_point=charge_point,
        connector_id=connector_id,
        meter_values=meter_values,
        transaction_id=transaction_id,
        source_message=source_message,
        received_at=received_at,
    )
    if transaction_id is not None:
        readings = meter_jumps.register_readings(rows)
        # One query: the transaction and its last trusted readings.
        transaction = (
            Transaction.objects.filter(charge_point=charge_point, id=transaction_id)
            .annotate(**dict(meter_jumps.last_trusted_wh(readings)))
            .first()
        )
        if transaction is not None:
            for row in rows:
                row.transaction = transaction
                row.reported_transaction_id = None
            meter_jumps.meter_values_flag_new(
                transaction=transaction,
                rows=rows,
                previous_wh=meter_jumps.previous_from_annotations(transaction, readings),
            )
    stored = _insert_new(rows)
    if stored:
        events.emit(
            "meter_values.recorded",
            charge_point=charge_point,
            connector_id=connector_id,
            transaction_id=transaction_id,
            samples=rows,
            stored=stored,
        )
    if stored < len(rows) and source_message is not None and source_message.pk is not None:
        source_message.note = _append_note(
            source_message.note,
            f"repeat: {len(rows) - stored} of {len(rows)} sampled values already stored",
        )
        source_message.save(update_fields=["note"])
    return stored


def _insert_new(rows: list[MeterValue]) -> int:
    """INSERT … ON CONFLICT DO NOTHING (INSERT OR IGNORE on SQLite) returning the new ids, so
    that telling a repeat costs no query; bulk_create(ignore_conflicts=True) counts nothing."""
    if not rows:
        return 0
    fields = [field for field in MeterValue._meta.concrete_fields if not field.primary_key]
    batch = connection.ops.bulk_batch_size(fields, rows) or len(rows)
    stored = 0
    for start in range(0, len(rows), batch):
        returned = MeterValue.objects._insert(
            rows[start : start + batch],
            fields=fields,
            returning_fields=[MeterValue._meta.pk],
            on_conflict=OnConflict.IGNORE,
        )
        # A single row's INSERT fetches one row: None when it was ignored.
        stored += sum(1 for row in returned if row is not None)
    return stored


def _rows(
    *,
    charge_point: ChargePoint,
    connector_id: int,
    meter_values: Iterable[dict[str, Any]],
    transaction_id: int | None,
    source_message: Message | None,
    received_at: datetime,
) -> list[MeterValue]:
    """One unsaved row per sampledValue, not linked to a transaction yet."""
    rows = []
    for meter_value in meter_values:
        timestamp = parse_charger_time(meter_value.get("timestamp"))
        for sampled in meter_value.get("sampledValue") or []:
            value = clean_text(str(sampled.get("value", "")))
            fields = {
                name: sampled.get(name) or default
                for name, default in SAMPLED_VALUE_DEFAULTS.items()
            }
            rows.append(
                MeterValue(
                    charge_point=charge_point,
                    reported_transaction_id=transaction_id,
                    connector_id=connector_id,
                    timestamp=timestamp,
                    received_at=received_at,
                    value=value,
                    numeric_value=_numeric(value),
                    phase=sampled.get("phase") or "",
                    source_message=source_message,
                    **fields,
                )
            )
    return rows
