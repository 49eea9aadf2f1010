"""A transaction's energy curve runs from its start (0 kWh) to its stop, not from its first
sample to its last."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from charging.models import MeterValue, Transaction
from charging.reports.energy import transaction_series
from tests.factories import CHARGER_TIME, make_charge_point, make_transaction

pytestmark = pytest.mark.django_db


def sample(transaction: Transaction, minutes: int, wh: int) -> None:
    MeterValue.objects.create(
        charge_point=transaction.charge_point,
        transaction=transaction,
        connector_id=transaction.connector_id,
        timestamp=CHARGER_TIME + timedelta(minutes=minutes),
        value=str(wh),
        numeric_value=wh,
        context="Sample.Periodic",
        format="Raw",
        measurand="Energy.Active.Import.Register",
        location="Outlet",
        unit="Wh",
    )


def test_the_curve_starts_at_the_start_and_ends_at_the_stop():
    session = make_transaction(
        make_charge_point("CP-1"),
        meter_start=1000,
        meter_stop=2600,
        stopped_at=CHARGER_TIME + timedelta(minutes=15),
        stop_received_at=timezone.now(),
    )
    sample(session, 5, 1500)
    sample(session, 10, 2000)
    series = transaction_series(transaction=session)
    assert series.energy_kwh == [
        (CHARGER_TIME, 0.0),
        (CHARGER_TIME + timedelta(minutes=5), 0.5),
        (CHARGER_TIME + timedelta(minutes=10), 1.0),
        (CHARGER_TIME + timedelta(minutes=15), 1.6),
    ]
    # Power from energy covers the first interval too: 0.5 kWh in 5 minutes.
    assert series.power_kw[0] == (CHARGER_TIME + timedelta(minutes=5), pytest.approx(6.0))


def test_an_open_session_without_samples_starts_at_zero():
    session = make_transaction(make_charge_point("CP-1"))
    assert transaction_series(transaction=session).energy_kwh == [(CHARGER_TIME, 0.0)]
