"""Meter values: one row per sampledValue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from .. import meter_jumps, selectors
from ..clock import parse_charger_time
from ..models import ChargePoint, Message, MeterValue
from .messages import clean_text

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
) -> list[MeterValue]:
    """Store one row per sampledValue (OCPP 1.6 §4.7), with the spec's defaults applied.

    Linked to the transaction when `transaction_id` names one of this charge point's, else only
    to the connector (keeping the reported id). Recording the same message twice is a no-op.
    """
    if source_message is not None and source_message.pk is not None:
        existing = list(MeterValue.objects.filter(source_message=source_message).order_by("id"))
        if existing:
            return existing
    received_at = received_at or timezone.now()
    transaction = None
    if transaction_id is not None:
        transaction = selectors.transaction_get(
            charge_point=charge_point, transaction_id=transaction_id
        )
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
                    transaction=transaction,
                    reported_transaction_id=transaction_id if transaction is None else None,
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
    meter_jumps.meter_values_flag_new(transaction=transaction, rows=rows)
    return MeterValue.objects.bulk_create(rows)
