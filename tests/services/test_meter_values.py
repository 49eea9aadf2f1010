"""services.meter_values_record: one row per sampledValue, with the spec's defaults."""

from __future__ import annotations

from decimal import Decimal

import pytest

from charging import services
from charging.models import MeterValue
from tests.factories import CHARGER_TIME, make_charge_point, make_message, make_transaction

pytestmark = pytest.mark.django_db

READING = {
    "timestamp": "2026-01-02T03:04:05Z",
    "sampledValue": [
        {"value": "1500"},
        {
            "value": "7.2",
            "context": "Sample.Clock",
            "format": "Raw",
            "measurand": "Power.Active.Import",
            "phase": "L1",
            "location": "Cable",
            "unit": "kW",
        },
        {"value": "opaque-signed-blob", "format": "SignedData"},
    ],
}


def test_every_sampled_value_is_a_row_with_defaults_applied():
    point = make_charge_point()
    stored = services.meter_values_record(
        charge_point=point, connector_id=1, meter_values=[READING]
    )
    assert stored == 3
    first, second, third = MeterValue.objects.order_by("id")
    assert (
        first.context,
        first.format,
        first.measurand,
        first.location,
        first.unit,
        first.phase,
    ) == (
        "Sample.Periodic",
        "Raw",
        "Energy.Active.Import.Register",
        "Outlet",
        "Wh",
        "",
    )
    assert first.numeric_value == Decimal("1500")
    assert first.timestamp == CHARGER_TIME and first.received_at != CHARGER_TIME
    assert (second.context, second.measurand, second.phase, second.location, second.unit) == (
        "Sample.Clock",
        "Power.Active.Import",
        "L1",
        "Cable",
        "kW",
    )
    assert second.value == "7.2" and second.numeric_value == Decimal("7.2")
    assert third.value == "opaque-signed-blob" and third.numeric_value is None


def test_rows_link_to_a_known_transaction_else_keep_the_reported_id():
    point = make_charge_point()
    transaction = make_transaction(point)
    services.meter_values_record(
        charge_point=point, connector_id=1, meter_values=[READING], transaction_id=transaction.id
    )
    services.meter_values_record(
        charge_point=point, connector_id=1, meter_values=[READING], transaction_id=999999
    )
    assert transaction.meter_values.count() == 3
    unlinked = MeterValue.objects.filter(transaction__isnull=True)
    assert unlinked.count() == 3
    assert set(unlinked.values_list("reported_transaction_id", flat=True)) == {999999}


def test_recording_the_same_message_twice_is_a_no_op():
    point = make_charge_point()
    message = make_message(point, action="MeterValues")
    for _ in range(2):
        services.meter_values_record(
            charge_point=point, connector_id=1, meter_values=[READING], source_message=message
        )
    assert MeterValue.objects.count() == 3


@pytest.mark.parametrize("linked", [True, False])
def test_a_sample_is_stored_once_whatever_message_carries_it(linked):
    point = make_charge_point()
    transaction_id = make_transaction(point).id if linked else 999999
    first, copy = (make_message(point, action="MeterValues", unique_id=uid) for uid in "ab")
    later = {**READING, "timestamp": "2026-01-02T03:05:05Z"}
    record = services.meter_values_record
    assert (
        record(
            charge_point=point,
            connector_id=1,
            meter_values=[READING],
            transaction_id=transaction_id,
            source_message=first,
        )
        == 3
    )
    # The same sampled values under a new unique id, with one new reading: only that is stored.
    assert (
        record(
            charge_point=point,
            connector_id=1,
            meter_values=[READING, later],
            transaction_id=transaction_id,
            source_message=copy,
        )
        == 3
    )
    assert MeterValue.objects.count() == 6
    assert MeterValue.objects.filter(source_message=first).count() == 3
    copy.refresh_from_db()
    assert "repeat: 3 of 6 sampled values already stored" in copy.note
    first.refresh_from_db()
    assert first.note == ""


def test_samples_outside_a_transaction_are_stored_once_too():
    point = make_charge_point()
    for _ in range(2):
        services.meter_values_record(charge_point=point, connector_id=1, meter_values=[READING])
    assert MeterValue.objects.count() == 3
    # Another connector, an unreadable timestamp, or another value (a charger whose clock
    # stands still) is another sample.
    services.meter_values_record(charge_point=point, connector_id=2, meter_values=[READING])
    bogus = {**READING, "timestamp": "bogus"}
    for _ in range(2):
        services.meter_values_record(charge_point=point, connector_id=1, meter_values=[bogus])
    later = {**READING, "sampledValue": [{"value": "1600"}]}
    services.meter_values_record(charge_point=point, connector_id=1, meter_values=[later])
    assert MeterValue.objects.count() == 13


@pytest.mark.parametrize(
    ("value", "numeric"),
    [
        ("12.5", Decimal("12.5")),
        ("1e3", Decimal("1000")),
        ("NaN", None),
        ("1e30", None),
        ("", None),
    ],
)
def test_numeric_value_only_when_parseable(value, numeric):
    point = make_charge_point()
    services.meter_values_record(
        charge_point=point,
        connector_id=1,
        meter_values=[{"timestamp": "bogus", "sampledValue": [{"value": value}]}],
    )
    row = MeterValue.objects.get()
    assert row.numeric_value == numeric
    assert row.timestamp is None  # an unreadable charger time is not replaced by ours
