"""Webhooks: their deliveries written with the event, then sent in order, signed, retried."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.db import DatabaseError, connection
from django.db import transaction as db_transaction
from django.utils import timezone

from .. import adapters, conf
from ..models import Webhook, WebhookDelivery, WebhookDeliveryStatus

logger = logging.getLogger(__name__)

USER_AGENT = "levity-webhooks/1"
# pg_try_advisory_lock(key, webhook id): one sender per webhook keeps its deliveries in order.
_ADVISORY_KEY = 0x1E71
# Countdowns longer than this are left to the periodic sweep: RabbitMQ closes a channel that
# holds an unacknowledged message (a waiting ETA task) past its consumer_timeout (30 min).
_MAX_COUNTDOWN = 600.0
_ERROR_LENGTH = 1000

Waker = Callable[[int, float], None]
_local_waker: Waker | None = None


def webhook_signature(*, secret: str, body: bytes) -> str:
    """The `X-Levity-Signature` header of `body`: `sha256=` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_create(
    *, url: str, events: list[str], secret: str, active: bool = True, description: str = ""
) -> Webhook:
    """A webhook (validated by the caller: the API's serializer, the admin's form)."""
    return Webhook.objects.create(
        url=url, events=events, secret=secret, active=active, description=description
    )


def webhook_delete(*, webhook: Webhook) -> None:
    """Delete `webhook` and its deliveries; a sender busy with it finds it gone and stops."""
    webhook.delete()


def webhook_deliveries_create(
    *, webhook_ids: Iterable[int], event: str, event_id: uuid.UUID, body: str
) -> list[WebhookDelivery]:
    """One pending delivery of `body` per active webhook of `webhook_ids`, in the caller's
    transaction; their senders are woken once it commits."""
    now = timezone.now()
    ids = list(Webhook.objects.filter(id__in=list(webhook_ids), active=True).values_list("id"))
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            webhook_id=webhook_id,
            event=event,
            event_id=event_id,
            body=body,
            created_at=now,
            queued_at=now,
            next_attempt_at=now,
        )
        for (webhook_id,) in ids
    )
    if deliveries:
        woken = [webhook_id for (webhook_id,) in ids]
        db_transaction.on_commit(lambda: [webhook_wake(webhook_id=i) for i in woken], robust=True)
    return deliveries


def webhook_delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send `delivery` again ("send again" in the admin): pending, due now, with a fresh day of
    retries. It goes out before the webhook's later deliveries (sending order is by id)."""
    now = timezone.now()
    delivery.status = WebhookDeliveryStatus.PENDING
    delivery.queued_at = delivery.next_attempt_at = now
    delivery.save(update_fields=["status", "queued_at", "next_attempt_at"])
    webhook_id = delivery.webhook_id
    db_transaction.on_commit(lambda: webhook_wake(webhook_id=webhook_id), robust=True)
    return delivery


# --- who sends ------------------------------------------------------------------------------


def set_local_waker(waker: Waker | None) -> None:
    """Wake `waker(webhook_id, countdown)` instead of the transport's waker (charging.adapters;
    embedded mode, levity.periodic); None restores it. Must be thread-safe and must not block."""
    global _local_waker
    _local_waker = waker


def webhook_wake(*, webhook_id: int, countdown: float = 0.0) -> None:
    """Have `webhook_id`'s due deliveries sent, in `countdown` seconds, by a worker of the
    `levity.webhooks` queue (or the embedded process's sender thread)."""
    if _local_waker is not None:
        _local_waker(webhook_id, countdown)
        return
    adapters.webhook_wake(webhook_id=webhook_id, countdown=countdown)


def webhook_ids_due() -> list[int]:
    """Active webhooks with a delivery due (the periodic sweep's list)."""
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDeliveryStatus.PENDING,
            next_attempt_at__lte=timezone.now(),
            webhook__active=True,
        )
        .values_list("webhook_id", flat=True)
        .distinct()
        .order_by()
    )


# --- sending --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """What one run of a webhook's sender did: how many went out, and when to come back
    (seconds; None: nothing left to send, or another sender has it)."""

    delivered: int = 0
    again_in: float | None = None


def webhook_deliver(*, webhook_id: int, budget: float | None = None) -> Sent:
    """Send `webhook_id`'s due deliveries, oldest first, for about `budget` seconds (default
    OCPP_WEBHOOK_TIMEOUT × 3): stops at the first that fails, which the later ones wait for.

    One sender per webhook (a PostgreSQL advisory lock): a second run returns at once. Wakes
    itself (`webhook_wake`) for a retry within _MAX_COUNTDOWN, and when its budget ran out."""
    budget = float(conf.get("OCPP_WEBHOOK_TIMEOUT")) * 3 if budget is None else budget
    deadline = time.monotonic() + budget
    delivered = 0
    while True:
        with _sender_lock(webhook_id) as held:
            if not held:
                return Sent(delivered)
            sent = _send_due(webhook_id, deadline)
        delivered += sent.delivered
        # A delivery committed while we held the lock woke a sender that found it taken.
        if sent.again_in is not None or not _has_due(webhook_id):
            break
    if sent.again_in is not None and sent.again_in <= _MAX_COUNTDOWN:
        webhook_wake(webhook_id=webhook_id, countdown=sent.again_in)
    return Sent(delivered, sent.again_in)


def _has_due(webhook_id: int) -> bool:
    return WebhookDelivery.objects.filter(
        webhook_id=webhook_id,
        status=WebhookDeliveryStatus.PENDING,
        next_attempt_at__lte=timezone.now(),
    ).exists()


_local_locks: dict[int, threading.Lock] = {}
_local_locks_guard = threading.Lock()


@contextlib.contextmanager
def _sender_lock(webhook_id: int) -> Iterator[bool]:
    """True when this process may send `webhook_id`'s deliveries. A session advisory lock on
    PostgreSQL (released when a killed worker's connection closes); a lock of this process
    elsewhere (SQLite: the embedded mode's single process)."""
    if connection.vendor != "postgresql":
        with _local_locks_guard:
            lock = _local_locks.setdefault(webhook_id, threading.Lock())
        held = lock.acquire(blocking=False)
        try:
            yield held
        finally:
            if held:
                lock.release()
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_ADVISORY_KEY, webhook_id])
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_ADVISORY_KEY, webhook_id])
            except DatabaseError:
                connection.close()  # the session, and its lock, end with it


def _send_due(webhook_id: int, deadline: float) -> Sent:
    delivered = 0
    while time.monotonic() < deadline:
        head = (
            WebhookDelivery.objects.filter(
                webhook_id=webhook_id, status=WebhookDeliveryStatus.PENDING
            )
            .order_by("id")
            .first()
        )
        if head is None:
            return Sent(delivered)
        webhook = Webhook.objects.filter(id=webhook_id).first()
        if webhook is None:  # deleted while an event for it was being recorded
            WebhookDelivery.objects.filter(webhook_id=webhook_id).delete()
            return Sent(delivered)
        if not webhook.active:
            return Sent(delivered)  # kept until it is active again
        wait = (head.next_attempt_at - timezone.now()).total_seconds()
        if wait > 0:
            return Sent(delivered, wait)
        if not _attempt(webhook, head):
            if head.status == WebhookDeliveryStatus.PENDING:
                return Sent(delivered, (head.next_attempt_at - timezone.now()).total_seconds())
            continue  # failed for good: the next one goes
        delivered += 1
    return Sent(delivered, 0.0)


def _attempt(webhook: Webhook, delivery: WebhookDelivery) -> bool:
    """POST `delivery` once and record how it went; True when the receiver took it."""
    code, error = _post(webhook, delivery)
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code = code
    delivery.last_error = error[:_ERROR_LENGTH]
    ok = code is not None and 200 <= code < 300
    if ok:
        delivery.status = WebhookDeliveryStatus.DELIVERED
        delivery.delivered_at = now
    elif not _retryable(code):
        delivery.status = WebhookDeliveryStatus.FAILED
    else:
        give_up_at = delivery.queued_at + timedelta(
            seconds=float(conf.get("OCPP_WEBHOOK_RETRY_FOR"))
        )
        if now >= give_up_at:
            delivery.status = WebhookDeliveryStatus.FAILED
        else:
            # Exponential, capped, and one last try when the retry time ends.
            delay = min(
                float(conf.get("OCPP_WEBHOOK_RETRY_FIRST")) * 2 ** (delivery.attempts - 1),
                float(conf.get("OCPP_WEBHOOK_RETRY_MAX")),
            )
            delivery.next_attempt_at = min(now + timedelta(seconds=delay), give_up_at)
    delivery.save(
        update_fields=[
            "status",
            "attempts",
            "last_attempt_at",
            "response_code",
            "last_error",
            "delivered_at",
            "next_attempt_at",
        ]
    )
    if not ok:
        logger.warning(
            "webhook %s: delivery %s (%s) attempt %d: %s",
            webhook.id,
            delivery.id,
            delivery.event,
            delivery.attempts,
            error or code,
        )
    return ok


def _retryable(code: int | None) -> bool:
    """No answer (connection refused, timeout), a server error, or "later" (408, 429)."""
    return code is None or code >= 500 or code in (408, 429)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would follow a 301/302 of a POST as a GET without the body: a redirect is an
    # answer that is not 2xx (the webhook's URL should be the final one).
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def _post(webhook: Webhook, delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST the delivery's body; (status code or None when there was no answer, error text)."""
    body = delivery.body.encode()
    request = urllib.request.Request(
        webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Levity-Event": delivery.event,
            "X-Levity-Event-Id": str(delivery.event_id),
            "X-Levity-Delivery": str(delivery.id),
            "X-Levity-Signature": webhook_signature(secret=webhook.secret, body=body),
        },
    )
    try:
        with _opener.open(request, timeout=float(conf.get("OCPP_WEBHOOK_TIMEOUT"))) as response:
            response.read(4096)
            return response.status, ""
    except urllib.error.HTTPError as error:
        text = ""
        with contextlib.suppress(OSError):
            text = error.read(500).decode("utf-8", "replace")
        return error.code, f"HTTP {error.code} {text}".strip()
    except (OSError, ValueError) as error:  # refused, reset, timed out, DNS, bad URL
        return None, f"{type(error).__name__}: {error}"
