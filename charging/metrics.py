"""The workers' Prometheus metrics: recorded around `dispatch.handle_event`, served by `/metrics`.

Celery workers are processes of their own (several per machine), and the web app is others again: with
`PROMETHEUS_MULTIPROC_DIR` set (to the same directory for all of them) every process writes its
samples there and `/metrics` sums them (prometheus-client's multiprocess mode). Without it, the
counters are those of the serving process alone — right in embedded mode, where the worker thread
and the web app share a process; elsewhere the gauges computed from the database at scrape time
(always served) are what is left.
"""

from __future__ import annotations

import hmac
import logging
import os
import socket
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from typing import Any

from django.db import DatabaseError
from django.db.models import Count, Max
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector

from . import conf
from .protocol import Call, CallError, CallResult, FrameError, parse
from .protocol.frames import is_known_action

logger = logging.getLogger(__name__)


def _process_identifier() -> str:
    # Worker containers sharing one directory have the same small pids; the host name (a Docker
    # container id) keeps their files apart. No "_": the collector splits file names on it.
    return f"{socket.gethostname()}-{os.getpid()}".replace("_", "-")


if getattr(values.ValueClass, "_multiprocess", False):
    # prometheus-client chose multiprocess mode (PROMETHEUS_MULTIPROC_DIR is set); before any
    # metric below exists, name this process's files by host as well as pid.
    values.ValueClass = values.MultiProcessValue(process_identifier=_process_identifier)

UNKNOWN = "unknown"
OK = "ok"
ERROR = "error"  # an event the worker could not process (logged; see dispatch.handle_inbound)
RECENT = timedelta(minutes=5)
# `levity_messages_recent` looks at this many of the latest messages at most (a range scan of the
# primary key): Message.created_at has no index, and a scrape must not read the whole table.
RECENT_WINDOW = 200_000

MESSAGES = Counter(
    "levity_messages_handled",
    "Events handled by the workers, by OCPP message type (or event kind: connect, disconnect, "
    "call_timeout, call_offline), action and result (ok, the CALLERROR code answered, or error)",
    ["message_type", "action", "result"],
)
HANDLING = Histogram(
    "levity_message_handling_seconds",
    "Seconds charging.dispatch.handle_inbound took per event, database retries included",
    ["message_type", "action"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
TRANSACTIONS_STARTED = Counter(
    "levity_transactions_started", "StartTransaction CALLs answered with a CALLRESULT"
)
TRANSACTIONS_STOPPED = Counter(
    "levity_transactions_stopped", "StopTransaction CALLs answered with a CALLRESULT"
)
SOFT_VIOLATIONS = Counter(
    "levity_soft_violations",
    "Schema violations of chargers' payloads that lenient validation accepted, by action and rule "
    "(docs/validation.md); each is also recorded on its Message",
    ["action", "rule"],
)


def action_label(action: str) -> str:
    """An OCPP 1.6 action name, else `unknown`: a charger must not create label values at will."""
    return action if action and is_known_action(action) else UNKNOWN


# What one handled event is counted as: its OCPP message type (or event kind), its action and
# its result (ok, the CALLERROR code answered, or error).
Labels = tuple[str, str, str]


def observe(labels: Labels, *, seconds: float) -> None:
    """Record one handled event. Never raises: metrics must not break message handling."""
    try:
        message_type, action, result = labels
        MESSAGES.labels(message_type, action, result).inc()
        HANDLING.labels(message_type, action).observe(seconds)
        if message_type == "CALL" and result == OK:
            if action == "StartTransaction":
                TRANSACTIONS_STARTED.inc()
            elif action == "StopTransaction":
                TRANSACTIONS_STOPPED.inc()
    except Exception:
        logger.exception("recording metrics %r failed", labels)


def observe_soft_violations(*, action: str, violations: list[dict[str, str]]) -> None:
    """Count the soft violations of one payload. Never raises."""
    try:
        for violation in violations:
            SOFT_VIOLATIONS.labels(action_label(action), violation["rule"]).inc()
    except Exception:
        logger.exception("recording soft violations of %s failed", action)


def call_labels(action: str, answer: CallResult | CallError | None) -> Labels:
    """A charger's CALL and the answer it got (None: a stored CALLRESULT, sent again)."""
    return "CALL", action_label(action), answer.error_code if isinstance(answer, CallError) else OK


def answer_labels(frame: CallResult | CallError, action: str) -> Labels:
    """A charger's answer to our CALL of `action`."""
    message_type = "CALLRESULT" if isinstance(frame, CallResult) else "CALLERROR"
    return message_type, action_label(action), OK


def invalid_labels(error: FrameError) -> Labels:
    return "invalid", UNKNOWN, error.error.code


def event_labels(envelope: Mapping[str, Any], reply: Mapping[str, Any], *, failed: bool) -> Labels:
    """The labels of an event from itself and its reply, for what the dispatch did not label
    (connection events, redelivered events, events that failed): no database access, so the
    action of a redelivered answer of a charger is `unknown`."""
    kind = str(envelope.get("kind"))
    if kind != "frame":
        return kind, "", ERROR if failed else OK
    try:
        frame = parse(envelope.get("text", ""))
    except FrameError as error:
        return invalid_labels(error)
    if isinstance(frame, Call):
        return "CALL", action_label(frame.action), _answer_result(reply.get("send"))
    return answer_labels(frame, "")[:2] + (ERROR if failed else OK,)


def _answer_result(send: Any) -> str:
    if not isinstance(send, str):
        return ERROR  # a CALL is always answered; this would be a bug
    try:
        answer = parse(send)
    except FrameError:
        return ERROR
    return answer.error_code if isinstance(answer, CallError) else OK


class DatabaseCollector:
    """Gauges computed from the database at scrape time: they need no multiprocess directory."""

    def collect(self) -> Iterator[Metric]:
        from .models import ChargePoint, Message, Transaction

        try:
            connected = ChargePoint.objects.filter(connected=True).count()
            active = Transaction.objects.filter(stop_received_at__isnull=True).count()
            latest = Message.objects.aggregate(latest=Max("id"))["latest"] or 0
            recent = (
                Message.objects.filter(
                    id__gt=latest - RECENT_WINDOW, created_at__gte=timezone.now() - RECENT
                )
                .values("direction", "action")
                .annotate(count=Count("id"))
                .order_by()
            )
            rows = [(row["direction"], row["action"], row["count"]) for row in recent]
        except DatabaseError:
            logger.exception("database metrics unavailable")
            return
        yield GaugeMetricFamily(
            "levity_charge_points_connected",
            "Charge points whose last connection event was a connect (database)",
            value=connected,
        )
        yield GaugeMetricFamily(
            "levity_transactions_active", "Transactions not stopped yet (database)", value=active
        )
        family = GaugeMetricFamily(
            "levity_messages_recent",
            "OCPP frames stored in the last 5 minutes, by direction and action (database)",
            labels=["direction", "action"],
        )
        by_label: dict[tuple[str, str], float] = {}
        for direction, action, count in rows:
            key = (direction, action_label(action))
            by_label[key] = by_label.get(key, 0) + count
        for labels, count in sorted(by_label.items()):
            family.add_metric(list(labels), count)
        yield family


class _ProcessCollector:
    """This process's own registry (its counters, and process_* / python_* metrics)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def registry() -> CollectorRegistry:
    """What `/metrics` serves: the multiprocess directory's sums when configured, else this
    process's registry; plus the database gauges."""
    served = CollectorRegistry(auto_describe=False)
    directory = conf.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        MultiProcessCollector(served, path=directory)
    else:
        served.register(_ProcessCollector())  # type: ignore[arg-type]
    served.register(DatabaseCollector())  # type: ignore[arg-type]
    return served


def _authorized(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; with METRICS_TOKEN set, only for `Authorization: Bearer <token>`;
    without one, only when METRICS_OPEN (the development default)."""
    token = conf.get("METRICS_TOKEN")
    if token and not _authorized(request, token):
        response = HttpResponse("metrics need a bearer token\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not token and not conf.get("METRICS_OPEN"):
        return HttpResponse(
            "metrics are off: set METRICS_TOKEN (or METRICS_OPEN=true)\n", status=403
        )
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_PLAIN_0_0_4)
