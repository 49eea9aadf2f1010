"""`levity.expire_stale_calls`: the task, and the beat schedule that runs it on `cp.*` workers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from celery_app import app
from charging import services
from charging.models import OutboundCall
from charging.protocol import envelope
from tasks.maintenance import EXPIRE_STALE_CALLS_TASK, expire_stale_calls
from tests.factories import make_charge_point


@pytest.mark.django_db
def test_the_task_ends_a_call_left_sent_by_a_dead_gateway(settings):
    settings.OCPP_CALL_GRACE = 0
    point = make_charge_point("CP-1")
    stale = services.outbound_call_create(
        charge_point=point, action="ClearCache", payload={}, timeout=1
    )
    young = services.outbound_call_create(
        charge_point=point, action="ClearCache", payload={}, timeout=60
    )
    OutboundCall.objects.filter(pk__in=[stale.pk, young.pk]).update(
        status="sent", created_at=timezone.now() - timedelta(seconds=5)
    )
    assert expire_stale_calls.apply().get() == 1
    status = dict(OutboundCall.objects.values_list("pk", "status"))
    assert (status[stale.pk], status[young.pk]) == ("timeout", "sent")


def test_beat_runs_the_task_every_minute_on_the_cp_queue():
    (entry,) = app.conf.beat_schedule.values()
    assert entry["task"] == EXPIRE_STALE_CALLS_TASK in app.tasks
    assert 30 <= entry["schedule"] <= 60
    assert app.tasks[EXPIRE_STALE_CALLS_TASK].ignore_result
    route = app.amqp.router.route({}, EXPIRE_STALE_CALLS_TASK)
    assert route["queue"].name == envelope.INBOUND_QUEUE
