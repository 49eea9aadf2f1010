"""Retention: OCPP frames older than OCPP_MESSAGE_RETENTION_DAYS go, in short batches."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from .. import conf
from ..models import Message, MeterValue, OutboundCall

PRUNE_BATCH = 2000
PRUNE_BUDGET_SECONDS = 1.0


@dataclass(frozen=True)
class Pruned:
    messages: int  # deleted, or that would be with dry_run
    done: bool  # False: the time budget ran out with old messages left


def message_prune(
    *,
    days: int | None = None,
    batch: int = PRUNE_BATCH,
    budget: float | None = PRUNE_BUDGET_SECONDS,
    dry_run: bool = False,
    now: datetime | None = None,
) -> Pruned:
    """Delete the messages created more than `days` (default OCPP_MESSAGE_RETENTION_DAYS; 0:
    keep everything) ago, `batch` at a time, each batch its own short transaction, until none
    is left or another batch would end past `budget` seconds (None: no limit; 0: one batch).

    What pointed at a deleted message stays with the pointer cleared (meter values, outbound
    calls, answers). Safe to run concurrently: a second run deletes what the first has not.
    """
    days = int(conf.get("OCPP_MESSAGE_RETENTION_DAYS") if days is None else days)
    if days <= 0:
        return Pruned(messages=0, done=True)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    started = time.monotonic()
    after, pruned = 0, 0
    while True:
        batch_started = time.monotonic()
        # Message.created_at has no index: walk the primary key, whose order is creation
        # order, and stop at the first window holding nothing old. A window is the next
        # `batch` ids, so a few rows newer than their ids (clock skew) cannot stop the walk.
        window = list(
            Message.objects.filter(id__gt=after)
            .order_by("id")
            .values_list("id", "created_at")[:batch]
        )
        old = [message_id for message_id, created_at in window if created_at < cutoff]
        if old and not dry_run:
            _delete(old)
        pruned += len(old)
        if not old or len(window) < batch:
            return Pruned(messages=pruned, done=True)
        clock = time.monotonic()
        # Stop before a batch as long as the last one would overrun the budget.
        if budget is not None and clock - started + (clock - batch_started) > budget:
            return Pruned(messages=pruned, done=False)
        after = window[-1][0]


def _delete(ids: list[int]) -> None:
    with db_transaction.atomic():
        # What Django's SET_NULL would do, without loading the messages first.
        MeterValue.objects.filter(source_message_id__in=ids).update(source_message=None)
        OutboundCall.objects.filter(source_message_id__in=ids).update(source_message=None)
        OutboundCall.objects.filter(message_id__in=ids).update(message=None)
        Message.objects.filter(answer_to_id__in=ids).exclude(id__in=ids).update(answer_to=None)
        table = connection.ops.quote_name(Message._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN ({', '.join(['%s'] * len(ids))})",
                ids,
            )
