"""The gateway's options, with their defaults, and the only place that reads its environment."""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from charging.protocol.envelope import DEFAULT_AMQP_URL, DEFAULT_PRESENCE_TTL

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
ENV_PREFIX = "LEVITY_GATEWAY_"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def default_gateway_id() -> str:
    """`<hostname>-<pid>-<4 hex>`: unique per process, readable in RabbitMQ's queue list."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


COMPRESSIONS = ("deflate", "off")
# Who may read /health and /metrics without METRICS_TOKEN: loopback and private addresses.
INTERNAL_NETWORKS = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)


@dataclass(frozen=True, kw_only=True)
class GatewayConfig:
    host: str = "0.0.0.0"
    port: int = 9000  # 0: any free port (tests)
    amqp_url: str = DEFAULT_AMQP_URL
    gateway_id: str = field(default_factory=default_gateway_id)
    # Websocket keepalive pings; 0 or None turns them off (Grizzl-E chargers drop on pings).
    ping_interval: float | None = 60.0
    ping_timeout: float | None = 20.0
    # How long one forwarded event may wait for the worker's reply before the next one goes.
    reply_timeout: float = 30.0
    # A bigger message closes the socket with 1009 (websockets' own check, RFC 6455 §7.4.1).
    max_frame_size: int = 65536
    # Per-message deflate (RFC 7692) when the charger offers it: "deflate" with a 2 KiB window
    # and memLevel 4 (websockets' documented sweet spot for small JSON, about 18 KiB less per
    # connection than its default), or "off" (no compression, the least memory).
    compression: str = "deflate"
    # The HeartbeatInterval the workers give chargers (OCPP_HEARTBEAT_INTERVAL); only used for
    # the default idle timeout, since the gateway has no Django settings.
    heartbeat_interval: float = 3600.0
    # Seconds without a byte from the charger (frames, pings, pongs) before its socket is closed
    # as a zombie; None: 3 × heartbeat_interval; 0 turns it off (docs/gateway.md, "Limits").
    idle_timeout: float | None = None
    # Per connection token bucket: frames read per second on average, and in a burst; over it
    # the socket is not read until tokens refill (TCP backpressure). 0 turns it off.
    max_frames_per_second: float = 20.0
    frame_burst: int = 40
    # On SIGTERM, how long closing sockets and delivering their last events may take; under
    # Docker's default 10 s stop grace period.
    drain_timeout: float = 8.0
    # Security (docs/gateway.md, "Security"). `authorize`: ask the workers at every handshake
    # (HTTP Basic credentials, unknown charge points); off, every well-formed handshake is
    # accepted without a round trip (the embedded demo's default).
    authorize: bool = False
    # TLS served by the gateway itself (wss://, security profile 2): PEM certificate chain and
    # key; with `tls_client_ca` clients must present a certificate it signed (profile 3).
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None
    # Behind a TLS-terminating proxy that verifies client certificates: the request header in
    # which it passes the verified subject DN. Read only when set; never trusted otherwise.
    trust_proxy_client_cert_header: str | None = None
    # Presence (docs/envelope.md, "Presence"): a Redis key renewed every TTL / 3 while the
    # gateway runs; when it expires the workers take this gateway's charge points offline.
    # Must equal the workers' OCPP_GATEWAY_PRESENCE_TTL; 0 (on both) turns presence off.
    redis_url: str = DEFAULT_REDIS_URL
    presence_ttl: float = DEFAULT_PRESENCE_TTL
    # With `authorize`: this many refused handshakes from one address within the window (s)
    # answer its next ones 429 here, without asking the workers (gateway/throttle.py); 0: off.
    auth_failures: int = 20
    auth_failure_window: float = 60.0
    # /health (it names the host) and /metrics answer peers in these networks, and anyone with
    # `Authorization: Bearer <metrics_token>` when it is set; others get 403.
    internal_networks: tuple[str, ...] = INTERNAL_NETWORKS
    metrics_token: str = ""

    def __post_init__(self) -> None:
        if (self.tls_key or self.tls_client_ca) and not self.tls_cert:
            raise ValueError("tls_key and tls_client_ca need tls_cert")
        for network in self.internal_networks:
            ipaddress.ip_network(network)  # ValueError naming a bad one
        if self.compression not in COMPRESSIONS:
            raise ValueError(f"compression {self.compression!r}: use {' or '.join(COMPRESSIONS)}")

    @property
    def scheme(self) -> str:
        return "wss" if self.tls_cert else "ws"

    @property
    def keepalive_interval(self) -> float | None:
        return self.ping_interval or None

    @property
    def keepalive_timeout(self) -> float | None:
        return self.ping_timeout or None

    @property
    def effective_idle_timeout(self) -> float | None:
        """Seconds of silence that close a socket (3 heartbeat intervals by default); None: off."""
        if self.idle_timeout is None:
            return 3 * self.heartbeat_interval or None
        return self.idle_timeout or None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewayConfig:
        """Read `LEVITY_GATEWAY_{HOST,PORT,ID,PING_INTERVAL,PING_TIMEOUT,REPLY_TIMEOUT,
        MAX_FRAME_SIZE,DRAIN_TIMEOUT,HEARTBEAT_INTERVAL,IDLE_TIMEOUT,MAX_FRAMES_PER_SECOND,
        FRAME_BURST,PRESENCE_TTL,AUTH_FAILURES,AUTH_FAILURE_WINDOW}`, `AMQP_URL` and `REDIS_URL`; the workers' settings
        `OCPP_HEARTBEAT_INTERVAL` and `OCPP_GATEWAY_PRESENCE_TTL` stand in for unset
        `LEVITY_GATEWAY_HEARTBEAT_INTERVAL` and `LEVITY_GATEWAY_PRESENCE_TTL`; unset names keep
        their defaults. Security: `AUTHORIZE` (true/false), `TLS_CERT`, `TLS_KEY`,
        `TLS_CLIENT_CA`, `TRUST_PROXY_CLIENT_CERT_HEADER`; `COMPRESSION` (deflate/off)."""
        env = os.environ if environ is None else environ
        options: dict[str, object] = {}
        converters: dict[str, tuple[str, type]] = {
            "HOST": ("host", str),
            "PORT": ("port", int),
            "ID": ("gateway_id", str),
            "PING_INTERVAL": ("ping_interval", float),
            "PING_TIMEOUT": ("ping_timeout", float),
            "REPLY_TIMEOUT": ("reply_timeout", float),
            "MAX_FRAME_SIZE": ("max_frame_size", int),
            "DRAIN_TIMEOUT": ("drain_timeout", float),
            "HEARTBEAT_INTERVAL": ("heartbeat_interval", float),
            "IDLE_TIMEOUT": ("idle_timeout", float),
            "MAX_FRAMES_PER_SECOND": ("max_frames_per_second", float),
            "FRAME_BURST": ("frame_burst", int),
            "PRESENCE_TTL": ("presence_ttl", float),
            "AUTH_FAILURES": ("auth_failures", int),
            "AUTH_FAILURE_WINDOW": ("auth_failure_window", float),
        }
        # One setting for workers and gateways in a shared environment (docker compose).
        for suffix in ("HEARTBEAT_INTERVAL", "GATEWAY_PRESENCE_TTL"):
            shared = env.get("OCPP_" + suffix, "").strip()
            own = ENV_PREFIX + suffix.removeprefix("GATEWAY_")
            if shared and not env.get(own, "").strip():
                env = {**env, own: shared}
        for suffix, (name, convert) in converters.items():
            value = env.get(ENV_PREFIX + suffix, "").strip()
            if value:
                try:
                    options[name] = convert(value)
                except ValueError:
                    raise ValueError(
                        f"{ENV_PREFIX}{suffix}={value!r} is not a valid {convert.__name__}"
                    ) from None
        for suffix, name in (
            ("TLS_CERT", "tls_cert"),
            ("TLS_KEY", "tls_key"),
            ("TLS_CLIENT_CA", "tls_client_ca"),
            ("TRUST_PROXY_CLIENT_CERT_HEADER", "trust_proxy_client_cert_header"),
            ("COMPRESSION", "compression"),
        ):
            if env.get(ENV_PREFIX + suffix, "").strip():
                options[name] = env[ENV_PREFIX + suffix].strip()
        authorize = env.get(ENV_PREFIX + "AUTHORIZE", "").strip().lower()
        if authorize:
            if authorize not in _TRUE | _FALSE:
                raise ValueError(f"{ENV_PREFIX}AUTHORIZE={authorize!r} is not true or false")
            options["authorize"] = authorize in _TRUE
        if env.get(ENV_PREFIX + "INTERNAL_NETWORKS", "").strip():
            networks = env[ENV_PREFIX + "INTERNAL_NETWORKS"].split(",")
            options["internal_networks"] = tuple(n.strip() for n in networks if n.strip())
        if env.get("METRICS_TOKEN", "").strip():
            options["metrics_token"] = env["METRICS_TOKEN"].strip()
        if env.get("AMQP_URL", "").strip():
            options["amqp_url"] = env["AMQP_URL"].strip()
        if env.get("REDIS_URL", "").strip():
            options["redis_url"] = env["REDIS_URL"].strip()
        return cls(**options)  # type: ignore[arg-type]
