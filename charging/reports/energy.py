"""A transaction's energy (kWh delivered) and power (kW) over time, from its meter values."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ..meter_jumps import reading_wh
from ..models import MeterValue, Transaction
from ..selectors import ENERGY_REGISTER, meter_value_list

POWER = "Power.Active.Import"

Point = tuple[datetime, float]


@dataclass
class TransactionSeries:
    energy_kwh: list[Point] = field(default_factory=list)
    power_kw: list[Point] = field(default_factory=list)
    power_from_energy: bool = False  # no Power.Active.Import samples: derived from energy deltas
    jumps: list[MeterValue] = field(default_factory=list)
    untimed: int = 0  # samples without a readable charger timestamp, not drawn


def _power_kw(sample: MeterValue) -> Decimal | None:
    if sample.numeric_value is None:
        return None
    if sample.unit == "W":
        return Decimal(sample.numeric_value) / 1000
    if sample.unit == "kW":
        return Decimal(sample.numeric_value)
    return None


def _totals(samples: Iterable[tuple[MeterValue, Decimal]]) -> list[tuple[datetime, Decimal]]:
    """One value per timestamp: the phase-less (total) samples when there are any, else the sum
    of the per-phase ones taken at the same moment."""
    totals: dict[datetime, Decimal] = {}
    phased: dict[datetime, Decimal] = defaultdict(Decimal)
    for sample, value in samples:
        if sample.phase == "":
            totals[sample.timestamp] = value  # type: ignore[index]
        else:
            phased[sample.timestamp] += value  # type: ignore[index]
    chosen = totals or phased
    return sorted(chosen.items())


def transaction_series(*, transaction: Transaction) -> TransactionSeries:
    """Energy delivered (register - meterStart) and power, in the charger's time order. Power is
    Power.Active.Import when the charger sent it, else the rate between trusted energy readings."""
    series = TransactionSeries()
    energy: list[tuple[MeterValue, Decimal]] = []
    power: list[tuple[MeterValue, Decimal]] = []
    for sample in meter_value_list(transaction=transaction):
        if sample.measurand == ENERGY_REGISTER and sample.energy_jump:
            series.jumps.append(sample)
            continue
        if sample.timestamp is None:
            series.untimed += 1
            continue
        if sample.measurand == ENERGY_REGISTER:
            wh = reading_wh(sample)
            if wh is not None:
                energy.append((sample, wh))
        elif sample.measurand == POWER:
            kw = _power_kw(sample)
            if kw is not None:
                power.append((sample, kw))
    start = Decimal(transaction.meter_start)
    series.energy_kwh = [(at, float((wh - start) / 1000)) for at, wh in _totals(energy)]
    # The curve starts where the session did (meterStart, 0 kWh) and ends at meterStop, not at
    # the first and last samples.
    if transaction.started_at is not None and (
        not series.energy_kwh or series.energy_kwh[0][0] > transaction.started_at
    ):
        series.energy_kwh.insert(0, (transaction.started_at, 0.0))
    if (
        transaction.meter_stop is not None
        and transaction.stopped_at is not None
        and series.energy_kwh
        and series.energy_kwh[-1][0] < transaction.stopped_at
    ):
        stop_kwh = float((Decimal(transaction.meter_stop) - start) / 1000)
        series.energy_kwh.append((transaction.stopped_at, stop_kwh))
    if power:
        series.power_kw = [(at, float(kw)) for at, kw in _totals(power)]
    else:
        series.power_from_energy = True
        series.power_kw = power_from_energy(series.energy_kwh)
    return series


def power_from_energy(energy_kwh: list[Point]) -> list[Point]:
    """Average power between consecutive energy readings, placed at the later one."""
    points = []
    for (t0, e0), (t1, e1) in zip(energy_kwh, energy_kwh[1:], strict=False):
        hours = (t1 - t0).total_seconds() / 3600
        if hours > 0:
            points.append((t1, (e1 - e0) / hours))
    return points
