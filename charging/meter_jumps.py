"""Energy register jumps: readings too far from the transaction's last trusted one are flagged.

A charger's Energy.Active.Import.Register only grows, and slowly: a reading more than
OCPP_METER_JUMP_WH away (either way) from the previous trusted reading of the same transaction
and phase is a glitch (a meter reset, a garbled frame, a unit mix-up), so it is flagged
(`MeterValue.energy_jump`) and left out of the transaction's computed energy. The comparison is
with the last *trusted* reading, so a single spike is flagged without flagging the reading after
it; a lasting offset keeps being flagged until someone looks (the admin shows the flags). The first
reading of a transaction is trusted: some chargers send meterStart 0 with absolute registers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db import connection
from django.db import transaction as db_transaction

from . import conf
from .models import MeterValue, Transaction
from .selectors import ENERGY_REGISTER


@dataclass(frozen=True)
class Jump:
    sample: MeterValue
    previous_wh: Decimal
    wh: Decimal


def reading_wh(sample: MeterValue) -> Decimal | None:
    """An energy register sample in Wh, or None when it is no usable register reading."""
    if sample.measurand != ENERGY_REGISTER or sample.numeric_value is None:
        return None
    if sample.unit == "Wh":
        return Decimal(sample.numeric_value)
    if sample.unit == "kWh":
        return Decimal(sample.numeric_value) * 1000
    return None


def _order_key(sample: MeterValue) -> tuple[bool, float, int]:
    # Readings without a timestamp go last, like in the selectors' ordering.
    moment = sample.timestamp
    return (moment is None, moment.timestamp() if moment else 0.0, sample.pk or 0)


def flag_sequence(
    samples: Iterable[MeterValue],
    *,
    threshold_wh: Decimal,
    previous_wh: dict[str, Decimal] | None = None,
) -> list[Jump]:
    """Set `energy_jump` on each register reading of `samples` (one transaction's, in the
    charger's order) and return the jumps. `previous_wh` holds the last trusted reading per phase
    from before `samples`; it is updated in place. Pure: nothing is saved."""
    previous = previous_wh if previous_wh is not None else {}
    jumps = []
    for sample in samples:
        wh = reading_wh(sample)
        if wh is None:
            continue
        last = previous.get(sample.phase)
        if last is not None and abs(wh - last) > threshold_wh:
            sample.energy_jump = True
            jumps.append(Jump(sample=sample, previous_wh=last, wh=wh))
        else:
            sample.energy_jump = False
            previous[sample.phase] = wh
    return jumps


def _threshold() -> Decimal:
    return Decimal(conf.get("OCPP_METER_JUMP_WH"))


def register_readings(rows: Iterable[MeterValue]) -> list[MeterValue]:
    """The energy register readings among `rows`, in the charger's order."""
    return sorted((row for row in rows if reading_wh(row) is not None), key=_order_key)


def _wh(value: object) -> Decimal:
    # PostgreSQL's numeric arrives as Decimal; SQLite's decimal column as int or float.
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(_MICRO_WH)


_MICRO_WH = Decimal("0.000001")


@cache
def _last_trusted_sql(vendor: str, phases: int, bounded: bool) -> str:
    quote = connection.ops.quote_name
    mv = quote(MeterValue._meta.db_table)
    # Per phase: the last trusted register reading from before the new ones, in Wh. Written by
    # hand: building the ORM's Subquery annotations cost more than the rest of a MeterValues.req.
    bound = " AND m.timestamp <= %s" if bounded else ""
    columns = "".join(
        f", (SELECT CASE WHEN m.unit = 'kWh' THEN m.numeric_value * 1000"
        f" ELSE m.numeric_value END FROM {mv} m"
        f" WHERE m.transaction_id = t.id AND m.measurand = %s AND m.phase = %s"
        f" AND m.unit IN ('Wh', 'kWh') AND m.numeric_value IS NOT NULL"
        f" AND NOT m.energy_jump{bound} ORDER BY m.timestamp DESC, m.id DESC LIMIT 1)"
        for _ in range(phases)
    )
    return (
        f"SELECT t.id{columns} FROM {quote(Transaction._meta.db_table)} t"
        " WHERE t.id = %s AND t.charge_point_id = %s"
    )


def transaction_last_trusted(
    *, charge_point_id: int, transaction_id: int, readings: list[MeterValue]
) -> dict[str, Decimal] | None:
    """None when `transaction_id` is none of the charge point's transactions; else, per phase of
    `readings`, its last trusted register reading in Wh from before them. One query."""
    phases = sorted({row.phase for row in readings})
    first = readings[0].timestamp if readings else None
    params: list[object] = []
    for phase in phases:
        params += [ENERGY_REGISTER, phase]
        if first is not None:
            # A charger may send older readings late (StopTransaction transactionData).
            params.append(connection.ops.adapt_datetimefield_value(first))
    params += [transaction_id, charge_point_id]
    with connection.cursor() as cursor:
        cursor.execute(_last_trusted_sql(connection.vendor, len(phases), first is not None), params)
        row = cursor.fetchone()
    if row is None:
        return None
    return {phase: _wh(wh) for phase, wh in zip(phases, row[1:], strict=True) if wh is not None}


def meter_values_flag_new(*, rows: list[MeterValue], previous_wh: dict[str, Decimal]) -> list[Jump]:
    """Flag the jumps among `rows`, about to be stored for one transaction, against its last
    trusted readings (`transaction_last_trusted`). Sets the field; the caller saves the rows."""
    return flag_sequence(
        register_readings(rows), threshold_wh=_threshold(), previous_wh=dict(previous_wh)
    )


@dataclass(frozen=True)
class Recheck:
    transaction: Transaction
    jumps: list[Jump]
    changed: list[MeterValue]


def transaction_recheck_jumps(*, transaction: Transaction, dry_run: bool = False) -> Recheck:
    """Recompute the flags of all of a transaction's register readings with today's threshold;
    save the ones that changed unless `dry_run`."""
    samples = list(
        MeterValue.objects.filter(
            transaction=transaction,
            measurand=ENERGY_REGISTER,
            unit__in=("Wh", "kWh"),
            numeric_value__isnull=False,
        )
    )
    before = {sample.pk: sample.energy_jump for sample in samples}
    by_phase: dict[str, list[MeterValue]] = defaultdict(list)
    for sample in sorted(samples, key=_order_key):
        by_phase[sample.phase].append(sample)
    jumps: list[Jump] = []
    for phase_samples in by_phase.values():
        jumps.extend(flag_sequence(phase_samples, threshold_wh=_threshold()))
    changed = [sample for sample in samples if sample.energy_jump != before[sample.pk]]
    if changed and not dry_run:
        with db_transaction.atomic():
            MeterValue.objects.bulk_update(changed, ["energy_jump"])
    elif dry_run:
        for sample in changed:  # leave the caller's view of the rows as stored
            sample.energy_jump = before[sample.pk]
    return Recheck(transaction=transaction, jumps=jumps, changed=changed)
