"""How the gateway reaches the workers: the Bus protocol and its RabbitMQ implementation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from yarl import URL

from charging.protocol import envelope as env

RECONNECT_INTERVAL = 1.0  # seconds between attempts to reach a broker that went away

log = logging.getLogger("gateway.bus")

MessageHandler = Callable[[dict[str, Any]], Awaitable[None]]


class Bus(Protocol):
    """Carries inbound envelopes to the workers, and replies and commands back.

    `publish` returns once the event is safely handed over (raises otherwise). Everything that
    arrives for this gateway comes through the `on_message` callback given to `start`, decoded:
    an `envelope.Reply` (no `type`) or an `envelope.CallRequest` (`type == "call"`).
    `bind(cp)` makes commands for charge point `cp` reach this gateway (routing key `cp` on
    `levity.calls`) and returns once that holds; `unbind(cp)` undoes it.
    """

    @property
    def reply_to(self) -> str: ...

    async def start(self, on_message: MessageHandler) -> None: ...

    async def publish(self, envelope: env.Inbound) -> None: ...

    async def bind(self, charge_point_id: str) -> None: ...

    async def unbind(self, charge_point_id: str) -> None: ...

    async def close(self) -> None: ...


def declare_worker_queue(url: str, *, exchange: str, queue: str, binding: str) -> None:
    """Declare the workers' queue with kombu, exactly as Celery declares it (blocking).

    Not with aio-pika: its codec (pamqp) enforces AMQP 0-9-1's queue-name grammar
    `[a-zA-Z0-9-_.:@#,/+ ]`, which `cp.*` breaks; RabbitMQ and Celery's py-amqp accept it.
    """
    from kombu import Connection, Exchange, Queue

    with Connection(url, ssl=URL(url).scheme == "amqps", connect_timeout=10) as connection:
        topic = Exchange(exchange, type="topic", durable=True)
        Queue(
            queue,
            topic,
            routing_key=binding,
            durable=True,
            max_priority=env.INBOUND_MAX_PRIORITY,
        )(connection.default_channel).declare()


class AmqpBus:
    """RabbitMQ via aio-pika: inbound events as Celery task messages; replies and commands on an
    exclusive queue, bound to the commands exchange once per charge point held.

    `exchange`, `queue`, `binding` and `calls_exchange` default to the names in docs/envelope.md;
    `queue=None` skips declaring the workers' queue (tests use a private exchange so no worker
    sees them).
    """

    def __init__(
        self,
        url: str,
        *,
        gateway_id: str,
        exchange: str = env.INBOUND_EXCHANGE,
        queue: str | None = env.INBOUND_QUEUE,
        binding: str = env.INBOUND_BINDING,
        calls_exchange: str = env.CALLS_EXCHANGE,
        publish_timeout: float = 10.0,
    ) -> None:
        # aio-pika ignores pika's retry options; they are honoured for the first connection,
        # which `connect_robust` would otherwise fail at once.
        self._url, self._attempts, self._retry_delay = env.amqp_retry_options(url)
        self._gateway_id = gateway_id
        self._exchange_name = exchange
        self._queue_name = queue
        self._binding = binding
        self._calls_exchange_name = calls_exchange
        self._publish_timeout = publish_timeout
        self._reply_to = env.gateway_queue(gateway_id)
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._calls_exchange: AbstractExchange | None = None
        self._replies: AbstractQueue | None = None
        # Bindings have a channel of their own: a channel runs one RPC at a time and its
        # publishes wait for it (aiormq's channel lock), so a burst of connects must not hold
        # up the events. The charge points bound, to bind again after a reconnection.
        self._binding_channel: AbstractChannel | None = None
        self._bound: set[str] = set()
        self._on_message: MessageHandler | None = None

    @property
    def reply_to(self) -> str:
        return self._reply_to

    async def start(self, on_message: MessageHandler) -> None:
        self._on_message = on_message
        self._connection = await self._connect()
        try:
            await self._declare()
        except BaseException:
            await self.close()
            raise
        log.info("bus ready: publishing to %s, replies on %s", self._exchange_name, self._reply_to)

    async def _declare(self) -> None:
        assert self._connection is not None
        self._channel = await self._connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        # Same declaration as Celery's `Exchange("levity.cp", type="topic")`: durable, no
        # arguments; anything else is PRECONDITION_FAILED.
        self._exchange = await self._channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        if self._queue_name is not None:
            # Declared here too so that events published before any worker started are kept.
            await asyncio.to_thread(
                declare_worker_queue,
                self._url,
                exchange=self._exchange_name,
                queue=self._queue_name,
                binding=self._binding,
            )
        # Same declaration as the workers' kombu `Exchange("levity.calls", type="direct")`.
        self._calls_exchange = await self._channel.declare_exchange(
            self._calls_exchange_name, aio_pika.ExchangeType.DIRECT, durable=True
        )
        self._replies = await self._channel.declare_queue(
            self._reply_to, exclusive=True, auto_delete=True
        )
        self._binding_channel = await self._connection.channel(publisher_confirms=False)
        # After a reconnection (the exclusive queue is declared again first, by its channel).
        self._connection.reconnect_callbacks.add(self._bind_again)
        # no_ack: a reply is only useful to this process, and the queue dies with it.
        await self._replies.consume(self._handle, no_ack=True)

    async def _connect(self) -> AbstractRobustConnection:
        for attempt in range(1, self._attempts + 1):
            try:
                return await aio_pika.connect_robust(
                    self._url,
                    client_properties={"connection_name": f"gateway {self._gateway_id}"},
                    # aio-pika's default is 5 s: back within about a second of the broker.
                    reconnect_interval=RECONNECT_INTERVAL,
                )
            except OSError as error:  # aiormq's AMQPConnectionError included
                if attempt == self._attempts:
                    raise
                if attempt == 1 or attempt % 10 == 0:  # not a line per attempt
                    log.warning(
                        "RabbitMQ not reachable (%s), attempt %d/%d; retrying every %.1f s",
                        error,
                        attempt,
                        self._attempts,
                        self._retry_delay,
                    )
                await asyncio.sleep(self._retry_delay)
        raise AssertionError("unreachable")

    async def publish(self, envelope: env.Inbound) -> None:
        if self._exchange is None:
            raise RuntimeError("AmqpBus.publish() before start()")
        body, headers, properties = env.celery_message(envelope)
        message = aio_pika.Message(
            body,
            headers=headers,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            **properties,
        )
        # Waits for the broker's confirm; a nack, an unroutable message or a lost connection
        # raises, and the connection's forwarder answers the charger InternalError.
        await self._exchange.publish(
            message, routing_key=env.routing_key(envelope["cp"]), timeout=self._publish_timeout
        )

    async def bind(self, charge_point_id: str) -> None:
        if self._binding_channel is None:
            raise RuntimeError("AmqpBus.bind() before start()")
        self._bound.add(charge_point_id)
        await self._binding_rpc("queue_bind", charge_point_id)

    async def unbind(self, charge_point_id: str) -> None:
        self._bound.discard(charge_point_id)
        if self._binding_channel is None:
            return  # closed: the exclusive queue and its bindings are gone with the connection
        await self._binding_rpc("queue_unbind", charge_point_id)

    async def _binding_rpc(self, method: str, charge_point_id: str) -> None:
        assert self._binding_channel is not None
        channel = await self._binding_channel.get_underlay_channel()
        # Shielded and without a timeout: an RPC cancelled half-way makes aiormq close the
        # channel (and RabbitMQ then the connection); a slow one only delays this charger.
        await asyncio.shield(
            getattr(channel, method)(
                queue=self._reply_to,
                exchange=self._calls_exchange_name,
                routing_key=charge_point_id,
            )
        )

    async def _bind_again(self, *_: object) -> None:
        for charge_point_id in sorted(self._bound):
            try:
                await self._binding_rpc("queue_bind", charge_point_id)
            except Exception as error:  # noqa: BLE001 - the next reconnection tries again
                log.warning("binding cp=%s again failed: %s", charge_point_id, error)
                return
        log.info("bound the %d charge points held here again", len(self._bound))

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        try:
            decoded = env.decode(message.body)
        except ValueError:
            log.warning("dropping undecodable message %r", message.body[:200])
            return
        if not isinstance(decoded, dict):
            log.warning("dropping message that is not an object: %r", decoded)
            return
        assert self._on_message is not None
        try:
            await self._on_message(decoded)
        except Exception:
            log.exception("message handler failed for %s", decoded.get("id"))

    async def close(self) -> None:
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        self._exchange = self._calls_exchange = self._replies = self._binding_channel = None
        try:
            await connection.close()
        except Exception:
            log.exception("closing the RabbitMQ connection failed")
