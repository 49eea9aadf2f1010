"""The gateway's options, with their defaults, and the only place that reads its environment."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_AMQP_URL = "amqp://guest:guest@localhost:5672/%2F?connection_attempts=20&retry_delay=1"
ENV_PREFIX = "LEVITY_GATEWAY_"


def default_gateway_id() -> str:
    """`<hostname>-<pid>-<4 hex>`: unique per process, readable in RabbitMQ's queue list."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


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
    max_frame_size: int = 65536
    # On SIGTERM, how long closing sockets and delivering their last events may take; under
    # Docker's default 10 s stop grace period.
    drain_timeout: float = 8.0

    @property
    def keepalive_interval(self) -> float | None:
        return self.ping_interval or None

    @property
    def keepalive_timeout(self) -> float | None:
        return self.ping_timeout or None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewayConfig:
        """Read `LEVITY_GATEWAY_{HOST,PORT,ID,PING_INTERVAL,PING_TIMEOUT,REPLY_TIMEOUT,
        MAX_FRAME_SIZE,DRAIN_TIMEOUT}` and `AMQP_URL`; unset names keep their defaults."""
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
        }
        for suffix, (name, convert) in converters.items():
            value = env.get(ENV_PREFIX + suffix, "").strip()
            if value:
                try:
                    options[name] = convert(value)
                except ValueError:
                    raise ValueError(
                        f"{ENV_PREFIX}{suffix}={value!r} is not a valid {convert.__name__}"
                    ) from None
        if env.get("AMQP_URL", "").strip():
            options["amqp_url"] = env["AMQP_URL"].strip()
        return cls(**options)  # type: ignore[arg-type]
