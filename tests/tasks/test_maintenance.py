"""Housekeeping tasks (`levity.expire_stale_calls`, `levity.reap_dead_gateways`,
`levity.prune_messages`) and the beat schedule that runs them on `cp.*` workers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from celery_app import app
from charging import services
from charging.models import ChargePoint, Message, OutboundCall
from charging.protocol import envelope
from tasks.maintenance import (
    EXPIRE_STALE_CALLS_TASK,
    PRUNE_MESSAGES_TASK,
    REAP_DEAD_GATEWAYS_TASK,
    expire_stale_calls,
    prune_messages,
    reap_dead_gateways,
)
from tests.factories import make_charge_point, make_message


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


@pytest.mark.parametrize(
    ("task", "every"),
    [
        (EXPIRE_STALE_CALLS_TASK, (30, 60)),
        (REAP_DEAD_GATEWAYS_TASK, (5, 15)),
        (PRUNE_MESSAGES_TASK, (10, 300)),
    ],
)
def test_beat_runs_housekeeping_on_the_cp_queue(task, every):
    (entry,) = [e for e in app.conf.beat_schedule.values() if e["task"] == task]
    assert task in app.tasks and app.tasks[task].ignore_result
    assert every[0] <= entry["schedule"] <= every[1]
    assert entry["options"]["expires"] == entry["schedule"]  # missed ticks don't pile up
    # ...and are taken ahead of a backlog of events.
    assert entry["options"]["priority"] == envelope.HOUSEKEEPING_PRIORITY
    assert app.conf.task_queues[0].max_priority == envelope.INBOUND_MAX_PRIORITY
    route = app.amqp.router.route({}, task)
    assert route["queue"].name == envelope.INBOUND_QUEUE


@pytest.mark.django_db
def test_the_reap_task_takes_a_dead_gateways_charge_points_offline(settings):
    settings.OCPP_GATEWAY_PRESENCE_TTL = 5
    make_charge_point(
        "CP-1",
        gateway_id="gw-never-had-a-lease",
        last_connect_at=timezone.now() - timedelta(seconds=60),
    )
    assert reap_dead_gateways.apply().get() == 1
    assert not ChargePoint.objects.get(pk="CP-1").connected


@pytest.mark.django_db
def test_the_prune_task_deletes_the_messages_past_their_retention(settings):
    settings.OCPP_MESSAGE_RETENTION_DAYS = 30
    point = make_charge_point("CP-1")
    old, young = make_message(point), make_message(point)
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    assert prune_messages.apply().get() == 1
    assert list(Message.objects.values_list("pk", flat=True)) == [young.pk]
