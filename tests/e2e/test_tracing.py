"""Tracing on real processes: one BootNotification is one trace across gateway, RabbitMQ, worker
and PostgreSQL, exported over OTLP/HTTP to a receiver in the test; off by default."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kombu import Connection, Exchange, Queue
from ocpp.v16 import call
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from charging.protocol import envelope as env
from levity.devstack import amqp_url, charger, start_gateway, start_worker, wait_until

from .fixtures import wait_for_quiet

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver (protobuf), keeping every span it is sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ReceiverHandler)
        self.spans: list[Span] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def taken(self) -> list[Span]:
        with self.lock:
            return list(self.spans)


class _ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest.FromString(body)
        spans = [
            Span(
                service=_service(resource_spans.resource),
                name=span.name,
                trace_id=span.trace_id.hex(),
                span_id=span.span_id.hex(),
                parent_id=span.parent_span_id.hex(),
                attributes={a.key: _value(a.value) for a in span.attributes},
            )
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]
        with self.server.lock:
            self.server.spans.extend(spans)
        answer = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


def _value(value: Any) -> Any:
    return getattr(value, value.WhichOneof("value")) if value.WhichOneof("value") else None


def _service(resource: Any) -> str:
    names = [_value(a.value) for a in resource.attributes if a.key == "service.name"]
    return names[0] if names else ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def boot(port: int, cp_id: str) -> None:
    async def session() -> None:
        async with charger(port, cp_id) as cp:
            answer = await cp.call(
                call.BootNotification(charge_point_vendor="V", charge_point_model="M")
            )
            assert answer.status == "Accepted"

    asyncio.run(session())


def test_one_boot_notification_is_one_trace_from_gateway_to_database(
    e2e_db, own_vhost, receiver: Receiver
) -> None:
    env_ = {
        **e2e_db.env,
        "AMQP_URL": own_vhost,  # this gateway's events reach this worker only
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # ms: spans reach the receiver soon after they end
    }
    worker = start_worker(e2e_db.tmp, env_, name="worker-traced")
    gateway, port = start_gateway(e2e_db.tmp, env_, name="gateway-traced")
    try:
        assert "tracing on: levity-gateway" in gateway.log()
        boot(port, "TRACE-1")

        def the_trace() -> list[Span] | None:
            spans = receiver.taken()
            roots = [
                s
                for s in spans
                if s.name == "ocpp BootNotification" and s.service == "levity-gateway"
            ]
            if not roots:
                return None
            trace = [s for s in spans if s.trace_id == roots[0].trace_id]
            has_task = any(s.name == f"run/{env.INBOUND_TASK}" for s in trace)
            has_queries = any(s.attributes.get("db.system") == "postgresql" for s in trace)
            return trace if has_task and has_queries else None

        trace = wait_until(the_trace, timeout=30, what="the BootNotification's trace")
        by_id = {s.span_id: s for s in trace}
        (root,) = [s for s in trace if s.name == "ocpp BootNotification"]
        assert root.parent_id == ""
        assert root.attributes == {
            "ocpp.charge_point_id": "TRACE-1",
            "ocpp.action": "BootNotification",
            "ocpp.message_type": "CALL",
            "ocpp.unique_id": root.attributes["ocpp.unique_id"],
            "levity.event": "frame",
        }
        (task,) = [s for s in trace if s.name == f"run/{env.INBOUND_TASK}"]
        assert task.service == "levity-worker"
        assert task.attributes["ocpp.charge_point_id"] == "TRACE-1"
        assert task.attributes["ocpp.action"] == "BootNotification"
        # gateway span → aio-pika's publish span → the Celery task span → the queries
        publish = by_id[task.parent_id]
        assert publish.service == "levity-gateway" and publish.parent_id == root.span_id
        queries = [s for s in trace if s.attributes.get("db.system") == "postgresql"]
        assert queries and all(by_id[q.parent_id] == task for q in queries)
        wait_for_quiet(port)
    finally:
        gateway.stop()
        worker.stop()


def test_off_by_default_the_published_event_has_no_trace_headers(e2e_db) -> None:
    """The session's gateway and worker run without OTEL_* variables."""
    cp_id = "UNTRACED-1"
    with Connection(amqp_url()) as amqp:
        # A copy of this charge point's events, next to the workers' `cp.*` queue.
        exchange = Exchange(env.INBOUND_EXCHANGE, type="topic", durable=True)
        probe = Queue("", exchange, routing_key=env.routing_key(cp_id), exclusive=True)
        probe = probe(amqp.default_channel)
        probe.declare()
        boot(e2e_db.port, cp_id)
        events = [
            wait_until(lambda: probe.get(no_ack=True), timeout=10, what="an event")
            for _ in range(2)  # connect, then the BootNotification
        ]
    assert [m.headers["kwargsrepr"] for m in events] == [
        f"{{'envelope': <{kind} {cp_id}>}}" for kind in ("connect", "frame")
    ]
    for message in events:
        assert "traceparent" not in message.headers and "tracestate" not in message.headers
    assert "tracing on" not in e2e_db.gateway.log() + e2e_db.workers[0].log()
