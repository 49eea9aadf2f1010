"""OpenTelemetry traces per OCPP message, off unless the standard OTEL_* variables ask (docs/tracing.md)."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any

from charging.protocol import jsonutil

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Tracer

# Imports no Django: the gateway uses it too. OpenTelemetry itself is imported only once
# tracing is on, so a process without it (or with it off) pays nothing.

log = logging.getLogger("levity.tracing")

GATEWAY = "levity-gateway"
WORKER = "levity-worker"
WEB = "levity-web"
# The maintained instrumentations each kind of process turns on (module, class).
_INSTRUMENTORS = {
    "aio_pika": ("opentelemetry.instrumentation.aio_pika", "AioPikaInstrumentor"),
    "celery": ("opentelemetry.instrumentation.celery", "CeleryInstrumentor"),
    "django": ("opentelemetry.instrumentation.django", "DjangoInstrumentor"),
    "psycopg": ("opentelemetry.instrumentation.psycopg", "PsycopgInstrumentor"),
}
INSTRUMENTATIONS: dict[str, tuple[str, ...]] = {
    GATEWAY: ("aio_pika",),
    WORKER: ("celery", "psycopg"),
    # celery: a command sent from the API or the admin carries the request's trace to its task.
    WEB: ("django", "celery", "psycopg"),
}
_MESSAGE_TYPES = {2: "CALL", 3: "CALLRESULT", 4: "CALLERROR"}

ForwardEvent = Callable[[Any], Awaitable[None]]

_provider: TracerProvider | None = None
_tracer: Tracer | None = None
_instrumented: list[Any] = []
_hooks: list[tuple[Any, Callable[..., None]]] = []  # (Celery signal, receiver) connected here


def tracing_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether the standard variables ask for traces: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
    `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, or `OTEL_TRACES_EXPORTER` set to anything but
    `none`; `OTEL_SDK_DISABLED=true` wins. The one place that decides; the SDK reads the rest."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporters:
        return exporters != "none"
    return bool(
        env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    )


def tracing_setup(service_name: str, *, exporter: SpanExporter | None = None) -> bool:
    """Turn tracing on for this process, once, before it opens connections or runs tasks, and
    instrument what `INSTRUMENTATIONS[service_name]` names; a no-op returning False unless
    `tracing_enabled()`. `exporter` (tests: an in-memory one) replaces the configured exporters
    and turns tracing on regardless of the environment."""
    global _provider, _tracer
    if _provider is not None:
        return True
    if exporter is None and not tracing_enabled():
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        log.warning(
            "OTEL_* variables ask for traces, but OpenTelemetry is not installed "
            "(pip install 'levity-backend[otel]'): tracing stays off"
        )
        return False
    # OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES override the default name.
    resource = Resource.create({SERVICE_NAME: service_name}).merge(OTELResourceDetector().detect())
    provider = TracerProvider(resource=resource)
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        for configured in _exporters_from_env():
            provider.add_span_processor(BatchSpanProcessor(configured))
    # Set once per process; instrumentations are also handed `provider` itself, so a test may
    # set up again after `tracing_shutdown`.
    trace.set_tracer_provider(provider)
    _provider = provider
    _tracer = provider.get_tracer("levity")
    for name in INSTRUMENTATIONS.get(service_name, ()):
        _instrument(name, provider)
    log.info("tracing on: %s, instrumented %s", service_name, ", ".join(_instrumented_names()))
    return True


def tracing_shutdown() -> None:
    """Export what is left and turn tracing off again (tests; a process exiting does it)."""
    global _provider, _tracer
    for signal, receiver in _hooks:
        signal.disconnect(receiver)
    _hooks.clear()
    for instrumentor in _instrumented:
        instrumentor.uninstrument()
    _instrumented.clear()
    if _provider is not None:
        _provider.shutdown()
    _provider = _tracer = None


def _exporters_from_env() -> list[SpanExporter]:
    """The exporters `OTEL_TRACES_EXPORTER` names (default `otlp`, over HTTP unless
    `OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL=grpc`), from the SDK's entry points."""
    from importlib.metadata import entry_points

    names = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() or "otlp"
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    exporters = []
    for name in (n.strip() for n in names.split(",")):
        if name in ("", "none"):
            continue
        if name == "otlp":
            name = "otlp_proto_grpc" if protocol == "grpc" else "otlp_proto_http"
        found = entry_points(group="opentelemetry_traces_exporter", name=name)
        if not found:
            log.warning("trace exporter %r is not installed: its spans are dropped", name)
            continue
        exporters.append(next(iter(found)).load()())
    return exporters


def _instrument(name: str, provider: TracerProvider) -> None:
    module, cls = _INSTRUMENTORS[name]
    try:
        instrumentor = getattr(import_module(module), cls)()
    except ImportError:
        log.warning("%s is not installed: no spans from %s", module, name)
        return
    instrumentor.instrument(tracer_provider=provider)
    _instrumented.append(instrumentor)
    if name == "celery":
        from celery import signals

        # Connected after the instrumentation's own task_prerun receiver: its span is current.
        signals.task_prerun.connect(_label_task_span, weak=False)
        _hooks.append((signals.task_prerun, _label_task_span))


def _instrumented_names() -> list[str]:
    return [type(instrumentor).__name__ for instrumentor in _instrumented]


def event_attributes(envelope: Mapping[str, Any]) -> dict[str, str]:
    """The span attributes of one gateway event (docs/tracing.md): its charge point, and for a
    frame its message type, unique id and (a CALL's) action."""
    attributes = {"ocpp.charge_point_id": str(envelope.get("cp", "")), "levity.event": "frame"}
    kind = str(envelope.get("kind", ""))
    if kind != "frame":
        attributes["levity.event"] = kind
        if envelope.get("unique_id"):
            attributes["ocpp.unique_id"] = str(envelope["unique_id"])
        return attributes
    try:
        frame = jsonutil.loads(envelope.get("text") or "")
    except (ValueError, RecursionError):
        frame = None
    if not isinstance(frame, list) or len(frame) < 2 or frame[0] not in _MESSAGE_TYPES:
        attributes["ocpp.message_type"] = "invalid"
        return attributes
    attributes["ocpp.message_type"] = _MESSAGE_TYPES[frame[0]]
    attributes["ocpp.unique_id"] = str(frame[1])
    if frame[0] == 2 and len(frame) > 2 and isinstance(frame[2], str):
        attributes["ocpp.action"] = frame[2]
    return attributes


def span_name(attributes: Mapping[str, str]) -> str:
    """`ocpp BootNotification` for a CALL, `ocpp CALLRESULT` for an answer, `ocpp connect`..."""
    what = attributes.get("ocpp.action") or attributes.get("ocpp.message_type")
    return f"ocpp {what or attributes.get('levity.event', 'event')}"


def traced_forward(forward: ForwardEvent) -> ForwardEvent:
    """The gateway's per-event forwarding inside a span per event, from its arrival to its answer
    written; `forward` itself while tracing is off (nothing per event). The span is current
    while the event is published, so the aio-pika instrumentation puts its traceparent into the
    Celery message's headers, where the workers' Celery instrumentation finds it."""
    tracer = _tracer
    if tracer is None:
        return forward
    from opentelemetry.trace import SpanKind

    async def traced(event: Any) -> None:
        attributes = event_attributes(event)
        with tracer.start_as_current_span(
            span_name(attributes),
            kind=SpanKind.SERVER,
            attributes=attributes,
            start_time=_received_ns(event),
        ):
            await forward(event)

    return traced


def _received_ns(envelope: Mapping[str, Any]) -> int | None:
    try:
        return int(datetime.fromisoformat(envelope["at"]).timestamp() * 1e9)
    except (KeyError, TypeError, ValueError):
        return None


def trace_headers() -> dict[str, str] | None:
    """The current trace context as message headers (W3C `traceparent`); None while off."""
    if _provider is None:
        return None
    from opentelemetry import propagate

    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers or None


def _label_task_span(
    *, task: Any = None, kwargs: Mapping[str, Any] | None = None, **_: Any
) -> None:
    envelope = (kwargs or {}).get("envelope")
    if not isinstance(envelope, Mapping):
        return
    from opentelemetry import trace

    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(event_attributes(envelope))
