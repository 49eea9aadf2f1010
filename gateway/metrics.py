"""The gateway's Prometheus metrics, served at `/metrics` on its HTTP port (docs/gateway.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from charging.protocol import jsonutil
from charging.protocol.frames import is_known_action

METRICS_PATH = "/metrics"
# The classic text format, which `generate_latest` writes by default and every Prometheus reads.
METRICS_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# Message type labels, as the OCPP-J 1.6 spec names them (§4.1.3); `invalid` for anything else.
CALL, CALLRESULT, CALLERROR, INVALID = "CALL", "CALLRESULT", "CALLERROR", "invalid"
_TYPES = {2: CALL, 3: CALLRESULT, 4: CALLERROR}
UNKNOWN = "unknown"

# Charger answers to our CALLs: from a few ms to the call timeout (30 s by default).
CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class FrameHead(NamedTuple):
    """What the metrics and the frame log need from a frame, read without validating it."""

    message_type: str
    unique_id: str
    action: str  # a CALL's action; "" for answers and invalid frames


def frame_head(text: str) -> FrameHead:
    """The message type, unique id and (for a CALL) action of `text`; never raises."""
    try:
        data = jsonutil.loads(text)
    except (ValueError, RecursionError):
        return FrameHead(INVALID, "", "")
    if not isinstance(data, list) or len(data) < 2:
        return FrameHead(INVALID, "", "")
    message_type = _TYPES.get(data[0]) if type(data[0]) is int else None
    unique_id = data[1] if isinstance(data[1], str) else ""
    if message_type is None:
        return FrameHead(INVALID, unique_id, "")
    action = data[2] if message_type == CALL and len(data) > 2 and isinstance(data[2], str) else ""
    return FrameHead(message_type, unique_id, action)


def action_label(action: str) -> str:
    """An OCPP 1.6 action name, else `unknown`: a charger must not create label values at will."""
    return action if action and is_known_action(action) else UNKNOWN


class GatewayMetrics:
    """One gateway's metrics, in a registry of its own (tests run several gateways per process).

    `connections` and `outstanding` are read from the gateway when scraped.
    """

    def __init__(
        self,
        *,
        connections: Callable[[], float] = lambda: 0,
        outstanding: Callable[[], float] = lambda: 0,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        Gauge(
            "levity_gateway_connections", "Charge point websockets open now", registry=r
        ).set_function(connections)
        Gauge(
            "levity_gateway_outstanding_calls",
            "CALLs of ours sent and not yet answered or timed out",
            registry=r,
        ).set_function(outstanding)
        self.accepted = Counter(
            "levity_gateway_connections_accepted",
            "Charge point websockets accepted (after the handshake)",
            registry=r,
        )
        self.frames = Counter(
            "levity_gateway_frames",
            "OCPP-J frames by direction (in: from chargers), message type and action; an "
            "answer's action is that of the CALL it answers, `unknown` when that is not known",
            ["direction", "message_type", "action"],
            registry=r,
        )
        self.call_seconds = Histogram(
            "levity_gateway_call_seconds",
            "Our CALLs: seconds from sending to the charger's CALLRESULT or CALLERROR",
            ["action"],
            buckets=CALL_BUCKETS,
            registry=r,
        )
        self.call_timeouts = Counter(
            "levity_gateway_call_timeouts",
            "Our CALLs the charger did not answer within their timeout",
            ["action"],
            registry=r,
        )
        self.refusals = Counter(
            "levity_gateway_handshake_refusals",
            "Websocket handshakes refused, by reason",
            ["reason"],
            registry=r,
        )
        self.takeovers = Counter(
            "levity_gateway_takeovers",
            "Connections that replaced an open one of the same charge point here, by whether "
            "the new one authenticated with the charge point's key",
            ["authenticated"],
            registry=r,
        )
        self.publish_failures = Counter(
            "levity_gateway_publish_failures",
            "Events the bus failed to hand to the workers, by event kind",
            ["kind"],
            registry=r,
        )
        self.reply_timeouts = Counter(
            "levity_gateway_reply_timeouts",
            "Events whose worker reply did not come within reply_timeout, by event kind",
            ["kind"],
            registry=r,
        )
        self.throttled_frames = Counter(
            "levity_gateway_throttled_frames",
            "Frames whose reading was delayed because their charger exceeded max_frames_per_second",
            registry=r,
        )
        self.idle_closes = Counter(
            "levity_gateway_idle_closes",
            "Websockets closed (4000) because their charger sent nothing within idle_timeout",
            registry=r,
        )

    def frame(self, direction: str, message_type: str, action: str) -> None:
        self.frames.labels(direction, message_type, action_label(action)).inc()

    def exposition(self) -> bytes:
        """The text exposition format of everything in the registry."""
        return generate_latest(self.registry)
