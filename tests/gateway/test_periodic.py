"""The embedded process's stand-in for Celery beat: threads that expire stale calls and prune
old messages."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from charging import services
from charging.models import Message, OutboundCall
from levity.devstack import wait_until
from levity.periodic import run_every, start_message_pruning, start_stale_call_expiry
from tests.factories import make_charge_point, make_message


def test_run_every_repeats_the_job_past_a_failure_until_stopped() -> None:
    stop, runs = threading.Event(), []

    def job() -> None:
        runs.append(time.monotonic())
        if len(runs) == 1:
            raise RuntimeError("boom")
        if len(runs) == 3:
            stop.set()

    run_every(0.001, job, stop=stop)
    assert len(runs) == 3


def test_a_zero_interval_starts_nothing(settings) -> None:
    before = threading.active_count()
    start_stale_call_expiry(0)()
    start_message_pruning(0)()
    settings.OCPP_MESSAGE_RETENTION_DAYS = 0  # keep everything: nothing to run
    start_message_pruning(0.01)()
    assert threading.active_count() == before


@pytest.mark.django_db(transaction=True)
def test_the_expiry_thread_ends_a_call_left_sent_by_a_dead_gateway(settings) -> None:
    settings.OCPP_CALL_GRACE = 0
    call = services.outbound_call_create(
        charge_point=make_charge_point("CP-1"), action="ClearCache", payload={}, timeout=1
    )
    OutboundCall.objects.filter(pk=call.pk).update(
        status="sent", created_at=timezone.now() - timedelta(seconds=5)
    )
    stop = start_stale_call_expiry(0.01)
    try:
        deadline = time.monotonic() + 5
        while OutboundCall.objects.get(pk=call.pk).status == "sent":
            assert time.monotonic() < deadline, "the expiry thread never ended the call"
            time.sleep(0.01)
    finally:
        stop()
    assert not any(t.name == "levity-expire-stale-calls" for t in threading.enumerate())
    assert OutboundCall.objects.get(pk=call.pk).status == "timeout"


@pytest.mark.django_db(transaction=True)
def test_the_pruning_thread_deletes_the_messages_past_their_retention(settings) -> None:
    settings.OCPP_MESSAGE_RETENTION_DAYS = 90
    point = make_charge_point("CP-1")
    old, young = make_message(point), make_message(point)
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))
    stop = start_message_pruning(0.01)
    try:
        wait_until(
            lambda: not Message.objects.filter(pk=old.pk).exists(),
            timeout=5,
            interval=0.01,
            what="the pruning thread to delete the old message",
        )
    finally:
        stop()
    assert not any(t.name == "levity-prune-messages" for t in threading.enumerate())
    assert list(Message.objects.values_list("pk", flat=True)) == [young.pk]
