"""Tracing: off by default, and one trace id from the gateway's publish to the worker's task."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from typing import Any

import aio_pika
import pytest
from celery.app.trace import build_tracer
from django.db import connection
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from celery_app import app
from charging import tracing
from charging.protocol import envelope as env
from gateway.bus import AmqpBus
from tasks import inbound  # noqa: F401 - registers levity.handle_frame
from tests.gateway.helpers import AMQP_URL, run
from tests.gateway.test_amqp_bus import delete_exchange, private_names

OTEL_VARIABLES = (
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
)


@pytest.fixture
def turned_off() -> Iterator[None]:
    yield
    tracing.tracing_shutdown()
    connection.close()  # its cursors were traced: the test database's flush needs none


@pytest.fixture
def no_otel_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("environ", "enabled"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}, False),
    ],
)
def test_enabled_only_by_the_standard_variables(environ: dict[str, str], enabled: bool) -> None:
    assert tracing.tracing_enabled(environ) is enabled


def test_asked_for_without_the_packages_stays_off(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # as if not installed

    async def forward(event: Any) -> None: ...

    assert tracing.tracing_setup(tracing.WORKER) is False
    assert "OpenTelemetry is not installed" in caplog.text
    assert tracing.traced_forward(forward) is forward
    assert tracing.trace_headers() is None


@pytest.mark.parametrize(
    ("kind", "fields", "name", "attributes"),
    [
        (
            "frame",
            {"text": '[3,"u-7",{}]'},
            "ocpp CALLRESULT",
            {"ocpp.message_type": "CALLRESULT", "ocpp.unique_id": "u-7"},
        ),
        (
            "frame",
            {"text": '[4,"u-8","NotSupported","",{}]'},
            "ocpp CALLERROR",
            {"ocpp.message_type": "CALLERROR", "ocpp.unique_id": "u-8"},
        ),
        ("frame", {"text": "not json"}, "ocpp invalid", {"ocpp.message_type": "invalid"}),
        (
            "frame",
            {"text": '[2,"u-9",7,{}]'},
            "ocpp CALL",
            {"ocpp.message_type": "CALL", "ocpp.unique_id": "u-9"},
        ),
        ("connect", {"remote": "10.0.0.1:5"}, "ocpp connect", {}),
        ("call_timeout", {"unique_id": "u-1"}, "ocpp call_timeout", {"ocpp.unique_id": "u-1"}),
    ],
)
def test_event_attributes_and_span_names(
    kind: env.Kind, fields: dict[str, str], name: str, attributes: dict[str, str]
) -> None:
    event = env.inbound(kind, cp="CP-9", conn="c", gateway="g", reply_to="r", **fields)
    expected = {"ocpp.charge_point_id": "CP-9", "levity.event": kind, **attributes}
    assert tracing.event_attributes(event) == expected
    assert tracing.span_name(expected) == name


def frame_event(cp: str, reply_to: str, text: str) -> env.Inbound:
    return env.inbound(
        "frame", cp=cp, conn="c0nn", gateway=f"test-{cp}", reply_to=reply_to, text=text
    )


async def publish_and_take(
    exchange_name: str, cp: str, text: str
) -> tuple[env.Inbound, aio_pika.abc.AbstractIncomingMessage]:
    """Publish one frame event through the gateway's real bus and forwarding hook; the message
    as RabbitMQ delivered it."""
    bus = AmqpBus(AMQP_URL, gateway_id=f"test-{cp}", exchange=exchange_name, queue=None)
    await bus.start(lambda reply: asyncio.sleep(0))
    try:
        connection = await aio_pika.connect(AMQP_URL)
        async with connection:
            channel = await connection.channel()
            probe = await channel.declare_queue(exclusive=True, auto_delete=True)
            await probe.bind(exchange_name, routing_key=env.routing_key(cp))
            event = frame_event(cp, bus.reply_to, text)
            await tracing.traced_forward(bus.publish)(event)
            message = await probe.get(timeout=5, fail=True)
            assert message is not None
            await message.ack()
            return event, message
    finally:
        await bus.close()
        await delete_exchange(exchange_name)


def test_off_by_default_nothing_per_event_and_no_headers(no_otel_env: None) -> None:
    async def forward(event: Any) -> None: ...

    assert tracing.tracing_setup(tracing.GATEWAY) is False
    assert tracing.traced_forward(forward) is forward  # no wrapper, no span objects
    assert tracing.trace_headers() is None
    assert not hasattr(aio_pika.Exchange.publish, "__wrapped__")  # aio-pika not instrumented

    exchange_name, cp = private_names()
    _, message = run(publish_and_take(exchange_name, cp, '[2,"1","Heartbeat",{}]'))
    assert "traceparent" not in message.headers
    assert message.headers == env.celery_message(message_envelope(message))[1]


def message_envelope(message: aio_pika.abc.AbstractIncomingMessage) -> env.Inbound:
    return env.decode(message.body)[1]["envelope"]


@pytest.mark.django_db(transaction=True)
def test_gateway_publish_and_worker_task_share_one_trace(turned_off: None) -> None:
    # Gateway side: the per-event span, and aio-pika's publish span injecting `traceparent`.
    spans = InMemorySpanExporter()
    assert tracing.tracing_setup(tracing.GATEWAY, exporter=spans)
    exchange_name, cp = private_names()
    boot = '[2,"b-1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
    event, message = run(publish_and_take(exchange_name, cp, boot))
    (gateway_span,) = [s for s in spans.get_finished_spans() if s.name == "ocpp BootNotification"]
    trace_id = gateway_span.context.trace_id
    assert gateway_span.kind is trace.SpanKind.SERVER
    assert dict(gateway_span.attributes) == {
        "ocpp.charge_point_id": cp,
        "ocpp.action": "BootNotification",
        "ocpp.message_type": "CALL",
        "ocpp.unique_id": "b-1",
        "levity.event": "frame",
    }
    assert message.headers["traceparent"].split("-")[1] == f"{trace_id:032x}"
    tracing.tracing_shutdown()  # (and the exporter with it)

    # Worker side: Celery's own task tracer, given the message's headers as the worker's
    # Request does; a fresh database connection, which the psycopg instrumentation wraps.
    spans = InMemorySpanExporter()
    assert tracing.tracing_setup(tracing.WORKER, exporter=spans)
    connection.close()
    task = app.tasks[env.INBOUND_TASK]
    request = {**message.headers, "delivery_info": {"routing_key": message.routing_key}}
    run_task = build_tracer(task.name, task, app=app, eager=False, propagate=True)
    run_task(event["id"], [], {"envelope": message_envelope(message)}, request)

    finished = spans.get_finished_spans()
    assert {s.context.trace_id for s in finished} == {trace_id}
    (task_span,) = [s for s in finished if s.name == f"run/{env.INBOUND_TASK}"]
    assert task_span.parent is not None and task_span.parent.trace_id == trace_id
    assert task_span.attributes["ocpp.charge_point_id"] == cp
    assert task_span.attributes["ocpp.action"] == "BootNotification"
    queries = [s for s in finished if s.attributes.get("db.system") == "postgresql"]
    assert queries and all(q.parent.span_id != 0 for q in queries)
    assert {q.parent.span_id for q in queries} <= {s.context.span_id for s in finished}
