"""`python -m gateway`: options from the command line over the environment, then serve until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal

from charging.tracing import GATEWAY, tracing_setup

from .bus import AmqpBus, Bus
from .config import COMPRESSIONS, GatewayConfig
from .server import Gateway

log = logging.getLogger("gateway")


def build_parser(*, prog: str = "gateway") -> argparse.ArgumentParser:
    """Every option defaults to None: unset ones keep the value from the environment."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="OCPP 1.6J websocket gateway: relays charge points to workers over RabbitMQ.",
    )
    parser.add_argument("--host", help="address to bind (default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="port to bind; 0 picks a free one (default 9000)")
    parser.add_argument(
        "--ping-interval",
        type=float,
        help="seconds between websocket pings; 0 turns them off (default 60)",
    )
    parser.add_argument(
        "--reply-timeout",
        type=float,
        help="seconds to wait for a worker's reply before the next event (default 30)",
    )
    parser.add_argument(
        "--compression",
        choices=COMPRESSIONS,
        help="per-message deflate when the charger offers it, with a small window; off: never "
        "(default deflate)",
    )
    parser.add_argument(
        "--max-frame-size",
        type=int,
        help="largest accepted message in bytes; bigger ones close with 1009 (default 65536)",
    )
    parser.add_argument(
        "--heartbeat-interval",
        type=float,
        help="the chargers' HeartbeatInterval, as OCPP_HEARTBEAT_INTERVAL (default 3600)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        help="close a socket silent this many seconds (code 4000); 0 turns it off "
        "(default 3 × heartbeat interval)",
    )
    parser.add_argument(
        "--max-frames-per-second",
        type=float,
        help="per charger; faster ones are read more slowly (throttled); 0 turns it off "
        "(default 20)",
    )
    parser.add_argument(
        "--frame-burst",
        type=int,
        help="frames a charger may send at once over the rate (default 40)",
    )
    parser.add_argument("--amqp-url", help="RabbitMQ URL (default $AMQP_URL or localhost)")
    parser.add_argument("--gateway-id", help="names the reply queue (default host-pid-random)")
    parser.add_argument("--redis-url", help="Redis for the presence lease (default $REDIS_URL)")
    parser.add_argument(
        "--presence-ttl",
        type=float,
        help="seconds the presence lease lives unrenewed, as the workers' "
        "OCPP_GATEWAY_PRESENCE_TTL; 0 turns it off (default 30)",
    )
    security = parser.add_argument_group('security (docs/gateway.md, "Security")')
    security.add_argument(
        "--authorize",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ask the workers at every handshake: HTTP Basic credentials (security profile 1) "
        "and unknown charge points (default off; $LEVITY_GATEWAY_AUTHORIZE)",
    )
    security.add_argument("--tls-cert", help="PEM certificate chain: serve wss:// (profile 2)")
    security.add_argument("--tls-key", help="PEM private key (default: in --tls-cert)")
    security.add_argument(
        "--tls-client-ca",
        help="PEM CA bundle: require client certificates it signed, naming the charge point "
        "in their CN (profile 3)",
    )
    security.add_argument(
        "--trust-proxy-client-cert-header",
        metavar="NAME",
        help="behind a TLS-terminating proxy that verifies client certificates: the header "
        "carrying the verified subject DN, whose CN must be the charge point id",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="(default info)",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> GatewayConfig:
    """The environment's config (`GatewayConfig.from_env`) with the given options on top."""
    overrides = {
        name: getattr(args, name, None)
        for name in (
            "host",
            "port",
            "ping_interval",
            "reply_timeout",
            "max_frame_size",
            "compression",
            "heartbeat_interval",
            "idle_timeout",
            "max_frames_per_second",
            "frame_burst",
            "amqp_url",
            "gateway_id",
            "redis_url",
            "presence_ttl",
            "authorize",
            "tls_cert",
            "tls_key",
            "tls_client_ca",
            "trust_proxy_client_cert_header",
        )
    }
    return dataclasses.replace(
        GatewayConfig.from_env(), **{k: v for k, v in overrides.items() if v is not None}
    )


async def run(config: GatewayConfig, bus: Bus | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully. Without `bus`, use RabbitMQ."""
    if bus is None:
        bus = AmqpBus(config.amqp_url, gateway_id=config.gateway_id)
    gateway = Gateway(config, bus=bus)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        # start() waits for the broker as long as it takes: a signal meanwhile stops it.
        starting = asyncio.create_task(gateway.start())
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            await starting if starting.done() else stopping
            await stopping
        finally:
            for task in (starting, stopping):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        log.info("signal received, shutting down")
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
        await gateway.stop()


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # websockets' INFO lines ("connection closed", "HTTP response sent") come with every /health
    # probe; connections and refusals have lines of our own (gateway.server).
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("websockets.server").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    tracing_setup(GATEWAY)  # before the bus connects: aio-pika is instrumented here
    asyncio.run(run(config_from_args(args)))
