"""The charging app's migrations match its models."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_missing_migrations():
    out = StringIO()
    try:
        call_command("makemigrations", "charging", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit:
        pytest.fail(f"charging models changed without a migration:\n{out.getvalue()}")


@pytest.mark.django_db(transaction=True)
def test_the_unique_sample_migration_keeps_the_first_of_stored_repeats():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("charging", "0014_auto_remote_start_rules")]
    after = [("charging", "0015_meter_value_unique_sample")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    point = apps.get_model("charging", "ChargePoint").objects.create(id="CP-M")
    meter_value = apps.get_model("charging", "MeterValue")
    sample = {
        "charge_point": point,
        "connector_id": 1,
        "reported_transaction_id": 7,
        "timestamp": "2026-01-02T03:04:05Z",
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unit": "Wh",
    }
    first = meter_value.objects.create(value="1", **sample)
    meter_value.objects.create(value="1", **sample)  # stored twice before the constraint
    meter_value.objects.create(value="2", **{**sample, "connector_id": 2})
    meter_value.objects.create(value="3", **{**sample, "timestamp": None})
    meter_value.objects.create(value="3", **{**sample, "timestamp": None})
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    rows = meter_value.objects.order_by("id").values_list("id", "value")
    assert [value for _, value in rows] == ["1", "2", "3", "3"]
    assert rows[0][0] == first.id
    executor.loader.build_graph()
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())
