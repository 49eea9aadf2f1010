"""Meter values: one row per sampledValue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.db import connection
from django.db.models.constants import OnConflict
from django.utils import timezone

from .. import events, meter_jumps
from ..clock import parse_charger_time
from ..models import ChargePoint, Message, MeterValue
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
        previous_wh = meter_jumps.transaction_last_trusted(
            charge_point_id=charge_point.pk,
            transaction_id=transaction_id,
            readings=meter_jumps.register_readings(rows),
        )
        if previous_wh is not None:
            for row in rows:
                row.transaction_id = transaction_id
                row.reported_transaction_id = None
            meter_jumps.meter_values_flag_new(rows=rows, previous_wh=previous_wh)
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


_INSERTED_FIELDS = [field for field in MeterValue._meta.concrete_fields if not field.primary_key]


@cache
def _insert_sql(vendor: str, rows: int) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _INSERTED_FIELDS)
    values = ", ".join([f"({', '.join(['%s'] * len(_INSERTED_FIELDS))})"] * rows)
    insert = connection.ops.insert_statement(on_conflict=OnConflict.IGNORE)
    conflict = connection.ops.on_conflict_suffix_sql(_INSERTED_FIELDS, OnConflict.IGNORE, [], [])
    return (
        f"{insert} {quote(MeterValue._meta.db_table)} ({columns}) VALUES {values} {conflict}"
        f" RETURNING {quote(MeterValue._meta.pk.column)}"
    )


def _insert_new(rows: list[MeterValue]) -> int:
    """INSERT … ON CONFLICT DO NOTHING (INSERT OR IGNORE on SQLite) … RETURNING, prepared once
    per row count, so that telling a repeat costs no query (bulk_create(ignore_conflicts=True)
    counts nothing) and the ORM's per-query set-up is not paid on every MeterValues.req."""
    if not rows:
        return 0
    batch = connection.ops.bulk_batch_size(_INSERTED_FIELDS, rows) or len(rows)
    stored = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            params = [
                field.get_db_prep_save(field.pre_save(row, True), connection)
                for row in chunk
                for field in _INSERTED_FIELDS
            ]
            cursor.execute(_insert_sql(connection.vendor, len(chunk)), params)
            # Only the rows inserted come back: a repeat of a stored sample returns nothing.
            stored += len(cursor.fetchall())
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
