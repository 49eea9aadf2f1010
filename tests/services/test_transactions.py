"""Services of transactions: start (idempotent), orphan cleanup, stop (never twice)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from charging import services
from charging.models import MeterValue, Transaction
from charging.selectors import StartKey
from tests.factories import CHARGER_TIME, make_charge_point, make_message, make_transaction

pytestmark = pytest.mark.django_db


def _start(point, **fields):
    params = {
        "charge_point": point,
        "connector_id": 1,
        "id_tag": "TAG-1",
        "meter_start": 1000,
        "timestamp": CHARGER_TIME,
    }
    params.update(fields)
    return services.transaction_start(**params)


def test_start_keeps_charger_and_server_time():
    point = make_charge_point()
    transaction = _start(point, reservation_id=7, id_tag_status="Accepted")
    transaction.refresh_from_db()
    assert transaction.started_at == CHARGER_TIME
    assert transaction.start_received_at != CHARGER_TIME
    assert transaction.reservation_id == 7 and transaction.is_open


def test_a_retried_start_returns_the_same_transaction():
    point = make_charge_point()
    first = _start(point)
    assert _start(point) == first
    assert _start(point, meter_start=1001) != first
    assert Transaction.objects.count() == 2


def test_start_without_readable_timestamp_is_noted():
    point = make_charge_point()
    transaction = _start(point, timestamp=None)
    assert transaction.started_at is None and "timestamp" in transaction.notes


def _sample(point, transaction, value, unit="Wh", phase="", minutes=1, measurand=None):
    return MeterValue.objects.create(
        charge_point=point,
        transaction=transaction,
        connector_id=1,
        timestamp=CHARGER_TIME + timedelta(minutes=minutes),
        value=value,
        numeric_value=value,
        context="Sample.Periodic",
        format="Raw",
        measurand=measurand or "Energy.Active.Import.Register",
        location="Outlet",
        unit=unit,
        phase=phase,
    )


def test_orphans_close_with_the_last_energy_reading_in_wh():
    point = make_charge_point()
    orphan = make_transaction(point, meter_start=100)
    _sample(point, orphan, "1.5", unit="kWh", minutes=1)
    _sample(point, orphan, "2.5", unit="kWh", minutes=2)
    _sample(point, orphan, "900", unit="Wh", phase="L1", minutes=3)  # per phase: not the total
    _sample(point, orphan, "99999", unit="W", minutes=4, measurand="Power.Active.Import")
    other_connector = make_transaction(point, connector_id=2)
    closed = services.transaction_close_orphans(charge_point=point, connector_id=1)
    assert closed == [orphan]
    orphan.refresh_from_db()
    assert (orphan.meter_stop, orphan.stop_reason, orphan.closed_as_orphan) == (2500, "Other", True)
    assert orphan.stop_received_at is not None and orphan.stopped_at is None
    other_connector.refresh_from_db()
    assert other_connector.is_open


def test_orphans_without_readings_stop_at_meter_start_and_a_retried_start_keeps_its_own():
    point = make_charge_point()
    orphan = make_transaction(point, meter_start=321)
    keep = make_transaction(point, meter_start=400)
    retried = StartKey(id_tag=keep.id_tag, meter_start=400, timestamp=keep.started_at)
    services.transaction_close_orphans(charge_point=point, connector_id=1, starting=retried)
    orphan.refresh_from_db()
    keep.refresh_from_db()
    assert orphan.meter_stop == 321
    assert keep.is_open


def test_stop_records_everything_and_defaults_reason_to_local():
    point = make_charge_point()
    transaction = make_transaction(point)
    stopped_at = CHARGER_TIME + timedelta(hours=1)
    result = services.transaction_stop(
        charge_point=point,
        transaction_id=transaction.id,
        meter_stop=5000,
        timestamp=stopped_at,
        id_tag="TAG-1",
        transaction_data=[
            {"timestamp": "2026-01-02T04:00:00Z", "sampledValue": [{"value": "5000"}]}
        ],
    )
    assert result == transaction
    transaction.refresh_from_db()
    assert (transaction.meter_stop, transaction.stop_reason, transaction.stop_id_tag) == (
        5000,
        "Local",
        "TAG-1",
    )
    assert transaction.stopped_at == stopped_at and transaction.stop_received_at != stopped_at
    assert transaction.meter_values.get().value == "5000"


def test_stop_of_an_unknown_transaction_is_noted_not_raised():
    point = make_charge_point()
    message = make_message(point, action="StopTransaction")
    result = services.transaction_stop(
        charge_point=point,
        transaction_id=424242,
        meter_stop=1,
        timestamp=CHARGER_TIME,
        source_message=message,
        transaction_data=[{"timestamp": "2026-01-02T04:00:00Z", "sampledValue": [{"value": "7"}]}],
    )
    assert result is None
    message.refresh_from_db()
    assert "424242" in message.note
    assert Transaction.objects.count() == 0
    assert MeterValue.objects.get().reported_transaction_id == 424242


def test_a_second_stop_changes_nothing_but_the_notes():
    point = make_charge_point()
    transaction = make_transaction(point)
    services.transaction_stop(
        charge_point=point, transaction_id=transaction.id, meter_stop=2000, timestamp=CHARGER_TIME
    )
    services.transaction_stop(
        charge_point=point,
        transaction_id=transaction.id,
        meter_stop=9999,
        timestamp=CHARGER_TIME,
        reason="Remote",
    )
    transaction.refresh_from_db()
    assert (transaction.meter_stop, transaction.stop_reason) == (2000, "Local")
    assert "second StopTransaction" in transaction.notes


def test_an_identical_repeated_stop_is_silent():
    point = make_charge_point()
    transaction = make_transaction(point)
    for _ in range(2):
        services.transaction_stop(
            charge_point=point,
            transaction_id=transaction.id,
            meter_stop=2000,
            timestamp=CHARGER_TIME,
        )
    transaction.refresh_from_db()
    assert transaction.notes == ""


def test_a_late_real_stop_replaces_an_orphan_close():
    point = make_charge_point()
    orphan = make_transaction(point, meter_start=100)
    services.transaction_close_orphans(charge_point=point, connector_id=1)
    services.transaction_stop(
        charge_point=point,
        transaction_id=orphan.id,
        meter_stop=777,
        timestamp=CHARGER_TIME,
        reason="PowerLoss",
    )
    orphan.refresh_from_db()
    assert (orphan.meter_stop, orphan.stop_reason, orphan.closed_as_orphan) == (
        777,
        "PowerLoss",
        False,
    )


def test_stop_of_another_charge_points_transaction_is_unknown():
    mine = make_charge_point("CP-A")
    theirs = make_transaction(make_charge_point("CP-B"))
    assert (
        services.transaction_stop(
            charge_point=mine, transaction_id=theirs.id, meter_stop=1, timestamp=CHARGER_TIME
        )
        is None
    )
    theirs.refresh_from_db()
    assert theirs.is_open
