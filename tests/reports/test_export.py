"""export_transactions and the admin's CSV action: zone, energy, duration, streaming."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import QuerySet
from django.urls import reverse

from charging import services
from charging.reports import export
from tests.factories import iso, make_charge_point, make_transaction

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def stopped(point, *, start, minutes, wh, **fields):
    return make_transaction(
        point,
        started_at=start,
        start_received_at=fields.pop("received", start),
        stopped_at=start + timedelta(minutes=minutes),
        stop_received_at=start + timedelta(minutes=minutes),
        meter_start=1000,
        meter_stop=1000 + wh,
        stop_reason=fields.pop("reason", "EVDisconnected"),
        **fields,
    )


def run(*args) -> list[dict[str, str]]:
    out, err = StringIO(), StringIO()
    call_command("export_transactions", *args, stdout=out, stderr=err)
    return list(csv.DictReader(StringIO(out.getvalue())))


def test_rows_in_the_chosen_zone_with_energy_and_duration():
    point = make_charge_point()
    tx = stopped(point, start=datetime(2026, 3, 10, 23, 30, tzinfo=UTC), minutes=95, wh=12345)
    rows = run("--from", "2026-03-10", "--to", "2026-03-11", "--tz", "Europe/Berlin")
    assert rows == [
        {
            "transaction_id": str(tx.id),
            "charge_point": "CP-1",
            "connector": "1",
            "id_tag": "TAG-1",
            "start": "2026-03-11T00:30:00+01:00",
            "stop": "2026-03-11T02:05:00+01:00",
            "energy_kwh": "12.345",
            "duration": "1:35:00",
            "stop_reason": "EVDisconnected",
        }
    ]


def test_period_is_whole_days_in_the_zone_by_received_start():
    point = make_charge_point()
    # 2026-03-10 23:30 UTC is already the 11th in Berlin (+01:00).
    late = stopped(point, start=datetime(2026, 3, 10, 23, 30, tzinfo=UTC), minutes=10, wh=1)
    early = stopped(point, start=datetime(2026, 3, 10, 22, 30, tzinfo=UTC), minutes=10, wh=1)
    berlin_11 = run("--from", "2026-03-11", "--to", "2026-03-11", "--tz", "Europe/Berlin")
    assert [row["transaction_id"] for row in berlin_11] == [str(late.id)]
    utc_10 = run("--from", "2026-03-10", "--to", "2026-03-10")
    assert [row["transaction_id"] for row in utc_10] == [str(early.id), str(late.id)]


def test_an_open_transaction_has_energy_so_far_and_no_stop_or_duration():
    point = make_charge_point()
    tx = make_transaction(point, meter_start=500, start_received_at=RECEIVED)
    services.meter_values_record(
        charge_point=point,
        connector_id=1,
        transaction_id=tx.id,
        meter_values=[
            {"timestamp": iso(RECEIVED), "sampledValue": [{"value": "2.5", "unit": "kWh"}]}
        ],
    )
    [row] = run("--from", "2026-03-10", "--to", "2026-03-10")
    assert (row["energy_kwh"], row["stop"], row["duration"]) == ("2.000", "", "")


def test_output_file_and_bad_arguments(tmp_path):
    stopped(make_charge_point(), start=RECEIVED, minutes=1, wh=1000)
    target = tmp_path / "out.csv"
    call_command(
        "export_transactions",
        "--from",
        "2026-03-10",
        "--to",
        "2026-03-10",
        "--output",
        str(target),
        stderr=StringIO(),
    )
    lines = target.read_text().splitlines()
    assert lines[0].startswith("transaction_id,charge_point") and len(lines) == 2
    with pytest.raises(CommandError, match="unknown time zone"):
        run("--from", "2026-03-10", "--to", "2026-03-10", "--tz", "Mars/Olympus")
    with pytest.raises(CommandError, match="before"):
        run("--from", "2026-03-11", "--to", "2026-03-10")


def test_rows_stream_from_a_chunked_iterator(monkeypatch):
    point = make_charge_point()
    for i in range(5):
        stopped(point, start=RECEIVED + timedelta(minutes=i), minutes=1, wh=100)
    fetched = {"rows": 0, "chunk_size": None}
    real_iterator = QuerySet.iterator

    def spy_iterator(self, chunk_size=None):
        fetched["chunk_size"] = chunk_size
        for item in real_iterator(self, chunk_size=chunk_size):
            fetched["rows"] += 1
            yield item

    monkeypatch.setattr(QuerySet, "iterator", spy_iterator)

    class Stream:
        def __init__(self):
            self.fetched_at_write = []

        def write(self, text):
            self.fetched_at_write.append(fetched["rows"])

    stream = Stream()
    count = export.write_csv(
        export.transaction_rows(
            export.transactions_in_period(start=RECEIVED.date(), end=RECEIVED.date(), zone=UTC),
            zone=UTC,
        ),
        stream,
    )
    assert count == 5
    assert fetched["chunk_size"] == export.CHUNK_SIZE
    # Each row is written as soon as it is fetched, never after reading everything first.
    assert stream.fetched_at_write == [0, 1, 2, 3, 4, 5]


def test_admin_action_streams_the_selected_transactions(admin_client):
    point = make_charge_point()
    one = stopped(point, start=RECEIVED, minutes=61, wh=7000)
    stopped(point, start=RECEIVED, minutes=1, wh=1)  # not selected
    response = admin_client.post(
        reverse("admin:charging_transaction_changelist"),
        {"action": "export_csv", "_selected_action": [one.id], "index": 0},
    )
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["transaction_id"], r["energy_kwh"], r["duration"]) for r in rows] == [
        (str(one.id), "7.000", "1:01:00")
    ]
