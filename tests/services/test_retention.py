"""Retention of OCPP frames: services.message_prune and `manage.py prune_messages`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from charging import services
from charging.models import Message, OutboundCall, Transaction
from tests.factories import make_charge_point, make_message, make_meter_value, make_transaction

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _messages(point, count: int, *, age_days: float) -> list[Message]:
    made = [make_message(point, unique_id=f"u{n}", action="Heartbeat") for n in range(count)]
    Message.objects.filter(pk__in=[m.pk for m in made]).update(
        created_at=timezone.now() - timedelta(days=age_days)
    )
    return made


def _ids() -> set[int]:
    return set(Message.objects.values_list("id", flat=True))


def test_old_messages_go_and_everything_that_pointed_at_them_stays():
    point = make_charge_point()
    transaction = make_transaction(point)
    old_call, old_answer = _messages(point, 2, age_days=91)
    recent_answer, recent = _messages(point, 2, age_days=89)
    Message.objects.filter(pk=old_answer.pk).update(answer_to=old_call)
    Message.objects.filter(pk=recent_answer.pk).update(answer_to=old_call)
    sample = make_meter_value(point, transaction=transaction, source_message=old_call)
    call = services.outbound_call_create(charge_point=point, action="ClearCache", payload={})
    OutboundCall.objects.filter(pk=call.pk).update(message=old_answer, source_message=old_call)

    pruned = services.message_prune(days=90)

    assert pruned == services.Pruned(messages=2, done=True)
    assert _ids() == {recent_answer.pk, recent.pk}
    sample.refresh_from_db()
    assert (sample.source_message_id, sample.transaction_id) == (None, transaction.pk)
    call.refresh_from_db()
    assert (call.message_id, call.source_message_id, call.action) == (None, None, "ClearCache")
    recent_answer.refresh_from_db()
    assert recent_answer.answer_to_id is None
    assert Transaction.objects.filter(pk=transaction.pk).exists()


def test_the_setting_is_the_default_and_zero_keeps_everything(settings):
    point = make_charge_point()
    _messages(point, 3, age_days=400)
    settings.OCPP_MESSAGE_RETENTION_DAYS = 0
    assert services.message_prune() == services.Pruned(messages=0, done=True)
    assert len(_ids()) == 3
    settings.OCPP_MESSAGE_RETENTION_DAYS = 500
    assert services.message_prune().messages == 0
    settings.OCPP_MESSAGE_RETENTION_DAYS = 300
    assert services.message_prune().messages == 3
    assert not _ids()


def test_a_batch_deletes_at_most_batch_rows_in_one_short_transaction():
    point = make_charge_point()
    _messages(point, 7, age_days=100)
    deletes: list[int] = []

    def spy(execute, sql, params, many, context):
        if sql.startswith("DELETE"):
            deletes.append(len(params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        # No time left after the first batch: the rest waits for the next run.
        assert services.message_prune(days=90, batch=3, budget=0) == services.Pruned(
            messages=3, done=False
        )
        assert len(_ids()) == 4
        assert services.message_prune(days=90, batch=3, budget=None) == services.Pruned(
            messages=4, done=True
        )
    assert deletes == [3, 3, 1]
    assert not _ids()


def test_the_walk_passes_a_few_skewed_rows_but_stops_at_a_window_of_recent_ones():
    point = make_charge_point()
    first_old = _messages(point, 2, age_days=100)
    skewed = _messages(point, 1, age_days=1)  # a clock ahead: newer than the ids after it
    second_old = _messages(point, 2, age_days=100)
    recent = _messages(point, 4, age_days=1)
    beyond = _messages(point, 1, age_days=100)  # past a whole window of recent rows
    assert services.message_prune(days=90, batch=3).messages == 4
    kept = {m.pk for m in skewed + recent + beyond}
    assert _ids() == kept
    assert not {m.pk for m in first_old + second_old} & kept


def test_a_dry_run_counts_and_deletes_nothing():
    point = make_charge_point()
    _messages(point, 5, age_days=100)
    _messages(point, 2, age_days=1)
    assert services.message_prune(days=90, batch=2, dry_run=True).messages == 5
    assert len(_ids()) == 7


def test_the_command_prunes_everything_past_the_days_given(settings):
    settings.OCPP_MESSAGE_RETENTION_DAYS = 90
    point = make_charge_point()
    _messages(point, 3, age_days=40)
    young = _messages(point, 1, age_days=10)
    out = StringIO()
    call_command("prune_messages", "--days", "30", "--dry-run", stdout=out)
    assert "3 message(s) older than 30 day(s) would be deleted" in out.getvalue()
    assert len(_ids()) == 4
    call_command("prune_messages", stdout=out)
    assert "0 message(s) older than 90 day(s) deleted" in out.getvalue()
    call_command("prune_messages", "--days", "30", stdout=out)
    assert "3 message(s) older than 30 day(s) deleted" in out.getvalue()
    assert _ids() == {young[0].pk}


def test_the_command_keeps_everything_when_the_setting_says_so(settings):
    settings.OCPP_MESSAGE_RETENTION_DAYS = 0
    _messages(make_charge_point(), 1, age_days=1000)
    out = StringIO()
    call_command("prune_messages", stdout=out)
    assert "every message is kept" in out.getvalue()
    assert len(_ids()) == 1
    with pytest.raises(CommandError, match="at least 1"):
        call_command("prune_messages", "--days", "0")


def test_pruning_works_on_the_embedded_sqlite_database(tmp_path):
    """The embedded default stores on SQLite: migrate a fresh file, prune it with the command."""
    script = textwrap.dedent(
        """
        import django
        from datetime import timedelta
        from django.core.management import call_command
        from django.utils import timezone
        django.setup()
        call_command("migrate", verbosity=0)
        from charging.models import ChargePoint, Message, MeterValue
        point = ChargePoint.objects.create(id="CP-1")
        ids = [Message.objects.create(charge_point=point, direction="in").pk for _ in range(5)]
        Message.objects.filter(pk__in=ids[:3]).update(created_at=timezone.now() - timedelta(days=100))
        Message.objects.filter(pk=ids[3]).update(answer_to_id=ids[0])
        MeterValue.objects.create(charge_point=point, connector_id=1, value="1", context="c",
            format="Raw", measurand="m", location="l", unit="Wh", source_message_id=ids[1])
        call_command("prune_messages", "--days", "90")
        print(sorted(Message.objects.values_list("id", flat=True)) == ids[3:],
              Message.objects.get(pk=ids[3]).answer_to_id,
              MeterValue.objects.get().source_message_id)
        """
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "levity_backend.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/levity.sqlite3",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == [
        "3 message(s) older than 90 day(s) deleted",
        "True None None",
    ]
