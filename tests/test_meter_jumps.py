"""Energy register jumps: flagged when recorded, rechecked by find_meter_jumps, left out of energy."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from charging import selectors, services
from charging.models import MeterValue
from tests.factories import CHARGER_TIME, iso, make_charge_point, make_transaction

pytestmark = pytest.mark.django_db


def reading(minutes: int, value: str, **fields) -> dict:
    return {
        "timestamp": iso(CHARGER_TIME + timedelta(minutes=minutes)),
        "sampledValue": [{"value": value, **fields}],
    }


def record(tx, *readings):
    return services.meter_values_record(
        charge_point=tx.charge_point,
        connector_id=tx.connector_id,
        transaction_id=tx.id,
        meter_values=list(readings),
    )


def flags(tx):
    return list(
        MeterValue.objects.filter(transaction=tx)
        .order_by("timestamp", "id")
        .values_list("value", "energy_jump")
    )


def test_a_spike_is_flagged_when_recorded_and_left_out_of_the_energy(settings):
    settings.OCPP_METER_JUMP_WH = 10000
    tx = make_transaction(make_charge_point(), meter_start=1000)
    record(tx, reading(1, "1500"), reading(2, "2000"))
    record(tx, reading(3, "95000"))  # +93 kWh in a minute
    assert selectors.transaction_energy_wh(transaction=tx) == 1000  # 2000 - 1000, not 94000
    record(tx, reading(4, "2600"))  # compared with 2000, the last trusted reading
    assert flags(tx) == [("1500", False), ("2000", False), ("95000", True), ("2600", False)]
    assert selectors.transaction_energy_wh(transaction=tx) == 1600
    annotated = selectors.transaction_list_with_energy().get(pk=tx.pk)
    assert annotated.energy_wh == 1600


def test_kwh_units_and_other_measurands_and_phases(settings):
    settings.OCPP_METER_JUMP_WH = 10000
    tx = make_transaction(make_charge_point(), meter_start=0)
    record(
        tx,
        reading(1, "1.0", unit="kWh"),
        reading(2, "5.0", unit="kWh"),  # +4000 Wh: fine
        reading(3, "50000", measurand="Power.Active.Import", unit="W"),  # not a register
        reading(4, "20", unit="kWh", phase="L1"),  # its own series: first of L1, trusted
        reading(5, "16.5", unit="kWh"),  # +11500 Wh: a jump
    )
    assert flags(tx) == [
        ("1.0", False),
        ("5.0", False),
        ("50000", False),
        ("20", False),
        ("16.5", True),
    ]


def test_readings_without_a_transaction_are_never_flagged(settings):
    settings.OCPP_METER_JUMP_WH = 10
    point = make_charge_point()
    services.meter_values_record(
        charge_point=point, connector_id=1, meter_values=[reading(1, "0"), reading(2, "99999")]
    )
    assert not MeterValue.objects.filter(energy_jump=True).exists()


def test_find_meter_jumps_flags_unflags_and_dry_run_changes_nothing(settings):
    settings.OCPP_METER_JUMP_WH = 1_000_000  # recorded without flags
    tx = make_transaction(make_charge_point(), meter_start=0)
    other = make_transaction(
        make_charge_point("CP-OLD"), start_received_at=timezone.now() - timedelta(days=40)
    )
    record(tx, reading(1, "100"), reading(2, "50000"), reading(3, "400"))
    record(other, reading(1, "100"), reading(2, "90000"))
    assert not MeterValue.objects.filter(energy_jump=True).exists()

    settings.OCPP_METER_JUMP_WH = 10000
    today = timezone.localdate().isoformat()
    out = StringIO()
    call_command("find_meter_jumps", "--from", today, "--to", today, "--dry-run", stdout=out)
    assert not MeterValue.objects.filter(energy_jump=True).exists()
    assert "1 transaction(s) checked, 1 jump(s)" in out.getvalue()
    assert "would change 1 flag(s)" in out.getvalue()
    assert f"transaction {tx.id} CP-1/1" in out.getvalue() and "100 Wh -> 50000" in out.getvalue()

    out = StringIO()
    call_command("find_meter_jumps", "--from", today, "--to", today, stdout=out)
    assert flags(tx) == [("100", False), ("50000", True), ("400", False)]
    assert not MeterValue.objects.filter(
        transaction=other, energy_jump=True
    ).exists()  # out of range
    assert "changed 1 flag(s)" in out.getvalue()

    # A higher threshold later clears the flag again.
    settings.OCPP_METER_JUMP_WH = 60000
    call_command("find_meter_jumps", "--from", today, "--to", today, stdout=StringIO())
    assert flags(tx) == [("100", False), ("50000", False), ("400", False)]


def test_meter_value_admin_shows_and_filters_the_flag(admin_client, settings):
    settings.OCPP_METER_JUMP_WH = 10000
    tx = make_transaction(make_charge_point(), meter_start=0)
    record(tx, reading(1, "100"), reading(2, "50000"))
    response = admin_client.get("/admin/charging/metervalue/?energy_jump__exact=1")
    assert response.status_code == 200
    assert [mv.value for mv in response.context["cl"].result_list] == ["50000"]
