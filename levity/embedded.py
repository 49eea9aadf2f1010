"""Gateway and worker in one process, joined by an in-process bus: the embedded default.

`levity up` without AMQP_URL runs this, so a newcomer needs no broker. The gateway is the same
code as in production; only the Bus differs: instead of publishing to RabbitMQ it hands each
event to `charging.dispatch.handle_inbound` on a worker thread and feeds the reply back.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger("levity.embedded")

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class LocalBus:
    """A Bus (see gateway/bus.py) that runs the worker's handler in this process.

    One worker thread: SQLite allows one writer, and per-connection order is already kept by
    the gateway's flow control.
    """

    def __init__(self, handler: Handler, *, reply_to: str = "levity.gw.embedded") -> None:
        self._handler = handler
        self._reply_to = reply_to
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="levity-worker")
        self._on_reply: Callable[[dict], Awaitable[None]] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    @property
    def reply_to(self) -> str:
        return self._reply_to

    async def start(self, on_reply: Callable[[dict], Awaitable[None]]) -> None:
        self._on_reply = on_reply

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
        assert self._on_reply is not None
        await self._on_reply(reply)

    async def close(self) -> None:
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


def main(argv: list[str] | None = None) -> None:
    from gateway.cli import build_parser, config_from_args, run

    parser = build_parser(prog="levity-embedded")
    args = parser.parse_args(argv)
    config = config_from_args(args)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    bus = LocalBus(django_handler())
    asyncio.run(run(config, bus=bus))


if __name__ == "__main__":
    main()
