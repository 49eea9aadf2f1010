"""Gateway, worker and web app in one process, joined by an in-process bus: the embedded default.

`levity up` without AMQP_URL runs this, so a newcomer needs no broker. The gateway is the same
code as in production; only the Bus differs: instead of publishing to RabbitMQ it hands each
event to `charging.dispatch.handle_inbound` on a worker thread and feeds the reply back, and
commands (`levity.send_call`) reach it through `tasks.transport.set_local_publisher`. The Django app is served
from the same process by Django's threaded WSGI server, so the API and the admin can send
commands too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from charging.protocol import envelope as env

if TYPE_CHECKING:
    from django.core.servers.basehttp import ThreadedWSGIServer

log = logging.getLogger("levity.embedded")

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class LocalBus:
    """A Bus (see gateway/bus.py) that runs the worker's handler in this process.

    One worker thread: SQLite allows one writer, and per-connection order is already kept by
    the gateway's flow control. The bound charge points stand in for the `levity.calls`
    bindings: `submit_call` refuses a charge point that no connection holds.
    """

    def __init__(self, handler: Handler, *, reply_to: str = "levity.gw.embedded") -> None:
        self._handler = handler
        self._reply_to = reply_to
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="levity-worker")
        self._on_message: Callable[[dict], Awaitable[None]] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        # Read by other threads in submit_call, written on the gateway's loop.
        self._bound: set[str] = set()
        self._bound_lock = threading.Lock()

    @property
    def reply_to(self) -> str:
        return self._reply_to

    async def start(self, on_message: Callable[[dict], Awaitable[None]]) -> None:
        self._on_message = on_message
        self._loop = asyncio.get_running_loop()

    async def bind(self, charge_point_id: str) -> None:
        with self._bound_lock:
            self._bound.add(charge_point_id)

    async def unbind(self, charge_point_id: str) -> None:
        with self._bound_lock:
            self._bound.discard(charge_point_id)

    def submit_call(self, request: env.CallRequest) -> bool:
        """Hand a command to the gateway, from any thread, without waiting; False when no
        connection holds `request["cp"]` (RabbitMQ would return the `mandatory` message).

        As over RabbitMQ, True means only "routed": a socket closing meanwhile turns it into a
        `call_offline` event, and the charger's answer comes back as an ordinary frame.
        """
        loop = self._loop
        with self._bound_lock:
            held = request.get("cp") in self._bound
        if loop is None or not held:
            return False
        # A JSON copy, as the broker would deliver: no object is shared between threads.
        message = json.loads(json.dumps(request))
        try:
            loop.call_soon_threadsafe(self._deliver, message)
        except RuntimeError:  # the loop has closed: the gateway is gone
            return False
        return True

    def _deliver(self, message: dict[str, Any]) -> None:
        assert self._on_message is not None
        task = asyncio.get_running_loop().create_task(self._on_message(message))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def publish(self, envelope: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self._process(envelope))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _process(self, envelope: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        try:
            reply = await loop.run_in_executor(self._executor, self._handler, envelope)
        except Exception:
            # The gateway's reply timeout answers the charger InternalError.
            log.exception(
                "embedded worker failed on %s event of %s", envelope.get("kind"), envelope.get("cp")
            )
            return
        assert self._on_message is not None
        await self._on_message(reply)

    async def close(self) -> None:
        with self._bound_lock:
            self._bound.clear()
        if self._pending:
            await asyncio.wait(self._pending, timeout=5)
        self._executor.shutdown(wait=True, cancel_futures=True)


def django_handler() -> Handler:
    """`charging.dispatch.handle_inbound`, with Django set up and connections kept healthy."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "levity_backend.settings")
    import django

    django.setup()
    from django.db import close_old_connections

    from charging.dispatch import handle_inbound

    def handle(envelope: dict[str, Any]) -> dict[str, Any]:
        close_old_connections()
        try:
            return dict(handle_inbound(envelope))
        finally:
            close_old_connections()

    return handle


def serve_web(host: str, port: int) -> ThreadedWSGIServer:
    """Serve `levity_backend.wsgi` with Django's threaded WSGI server on a daemon thread (static
    files through WhiteNoise). Django must be set up. Stop with `shutdown()`, `server_close()`."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    from levity_backend.wsgi import application

    # Bound here, on the caller's thread, so a busy port fails the start-up at once.
    server = ThreadedWSGIServer((host, port), WSGIRequestHandler, ipv6=":" in host)
    server.set_app(application)
    threading.Thread(target=server.serve_forever, name="levity-web", daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> None:
    from gateway.cli import build_parser, config_from_args, configure_logging, run
    from levity.periodic import (
        start_message_pruning,
        start_stale_call_expiry,
        start_webhook_sender,
    )

    parser = build_parser(prog="levity-embedded")
    parser.add_argument(
        "--web-host", default="127.0.0.1", help="admin/API address (default %(default)s)"
    )
    parser.add_argument(
        "--web-port", type=int, default=8000, help="admin/API port; 0 picks one (default 8000)"
    )
    args = parser.parse_args(argv)
    # No presence lease: the gateway lives and dies with the worker in this one process.
    config = dataclasses.replace(config_from_args(args), presence_ttl=0)
    configure_logging(args.log_level)
    bus = LocalBus(django_handler())
    web = serve_web(args.web_host, args.web_port)
    log.info("web app on http://%s:%d/", args.web_host, web.server_port)
    from tasks import transport

    transport.set_local_publisher(bus.submit_call)
    # No beat without a broker: threads end the calls no one will answer and delete the frames
    # past their retention (levity.periodic).
    stop_expiry = start_stale_call_expiry()
    stop_pruning = start_message_pruning()
    # ...and a thread sends the webhooks, off the worker thread (levity.webhooks in production).
    stop_webhooks = start_webhook_sender()
    try:
        asyncio.run(run(config, bus=bus))
    finally:
        stop_webhooks()
        stop_pruning()
        stop_expiry()
        transport.set_local_publisher(None)
        web.shutdown()
        web.server_close()


if __name__ == "__main__":
    main()
