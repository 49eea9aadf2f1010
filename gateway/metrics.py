"""The gateway's Prometheus metrics, served at `/metrics` on its HTTP port (docs/gateway.md)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from charging.protocol.frames import is_known_action

METRICS_PATH = "/metrics"
# The classic text format, which `generate_latest` writes by default and every Prometheus reads.
METRICS_CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4

# The action label of an answer to no CALL we know of, or of an action OCPP 1.6 does not have.
UNKNOWN = "unknown"

# Charger answers to our CALLs: from a few ms to the call timeout (30 s by default).
CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


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
