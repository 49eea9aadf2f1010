"""AmqpBus against the real RabbitMQ: Celery-compatible declarations, task messages, replies."""

import asyncio
import contextlib
import json
import uuid
from typing import Any

import aio_pika
import pytest
from kombu import Connection as KombuConnection
from kombu import Exchange, Queue
from websockets.asyncio.client import connect

from charging.protocol import envelope as env
from gateway.bus import AmqpBus

from .helpers import AMQP_URL, OCPP16, eventually, outbound_call, run, running_gateway


def private_names() -> tuple[str, str]:
    """A throwaway exchange and charge point id, so no real worker ever sees test events
    (anything published to `levity.cp` lands in the shared durable `cp.*` queue)."""
    token = uuid.uuid4().hex[:12]
    return f"levity.test.{token}", f"gwtest-{token}"


async def delete_exchange(name: str) -> None:
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.exchange_delete(name)


def test_declares_the_queue_celery_declares() -> None:
    async def scenario() -> None:
        bus = AmqpBus(AMQP_URL, gateway_id=f"test-{uuid.uuid4().hex[:8]}")
        await bus.start(lambda reply: asyncio.sleep(0))
        await bus.close()

    run(scenario())
    # Exactly what celery_app.py declares; different arguments would be PRECONDITION_FAILED.
    with KombuConnection(AMQP_URL.replace("%2F", "/")) as connection:
        channel = connection.channel()
        exchange = Exchange(env.INBOUND_EXCHANGE, type="topic", durable=True)
        queue = Queue(
            env.INBOUND_QUEUE,
            exchange,
            routing_key=env.INBOUND_BINDING,
            durable=True,
            max_priority=env.INBOUND_MAX_PRIORITY,
        )
        queue(channel).declare()


def test_publish_sends_a_celery_task_message_and_replies_come_back() -> None:
    exchange_name, cp = private_names()

    async def scenario() -> None:
        replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def on_reply(reply: dict[str, Any]) -> None:
            replies.put_nowait(reply)

        bus = AmqpBus(AMQP_URL, gateway_id=f"test-{cp}", exchange=exchange_name, queue=None)
        await bus.start(on_reply)
        assert bus.reply_to == f"levity.gw.test-{cp}"
        connection = await aio_pika.connect(AMQP_URL)
        try:
            async with connection:
                channel = await connection.channel()
                probe = await channel.declare_queue(exclusive=True, auto_delete=True)
                await probe.bind(exchange_name, routing_key=env.routing_key(cp))

                event = env.inbound(
                    "frame",
                    cp=cp,
                    conn="c0nn",
                    gateway=f"test-{cp}",
                    reply_to=bus.reply_to,
                    text='[2,"1","Heartbeat",{}]',
                )
                await bus.publish(event)

                message = await probe.get(timeout=5, fail=True)
                assert message is not None
                await message.ack()
                body, headers, properties = env.celery_message(event)
                args, kwargs, embed = json.loads(message.body)
                assert (args, kwargs) == ([], {"envelope": event})
                assert set(embed) == {"callbacks", "errbacks", "chain", "chord"}
                assert message.body == body
                assert message.headers == headers
                assert message.headers["task"] == "levity.handle_frame"
                assert message.headers["id"] == event["id"]
                assert message.correlation_id == properties["correlation_id"] == event["id"]
                assert message.content_type == "application/json"
                assert message.content_encoding == "utf-8"
                assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
                assert message.routing_key == f"cp.{cp}"

                # A worker's reply: plain JSON on the default exchange to `reply_to`.
                reply = env.reply(event, send='[3,"1",{}]')
                await channel.default_exchange.publish(
                    aio_pika.Message(env.encode(reply), content_type="application/json"),
                    routing_key=event["reply_to"],
                )
                async with asyncio.timeout(5):
                    assert await replies.get() == reply
        finally:
            await bus.close()
            await delete_exchange(exchange_name)

    run(scenario())


def test_unroutable_publish_raises() -> None:
    exchange_name, cp = private_names()

    async def scenario() -> None:
        bus = AmqpBus(AMQP_URL, gateway_id=f"test-{cp}", exchange=exchange_name, queue=None)
        await bus.start(lambda reply: asyncio.sleep(0))
        try:
            event = env.inbound(
                "connect", cp=cp, conn="c", gateway="g", reply_to=bus.reply_to, remote="x"
            )
            with pytest.raises(aio_pika.exceptions.PublishError):
                await bus.publish(event)  # nothing bound to the private exchange
        finally:
            await bus.close()
            await delete_exchange(exchange_name)

    run(scenario())


def test_unreachable_broker_fails_after_the_url_s_connection_attempts() -> None:
    async def scenario() -> None:
        bus = AmqpBus(
            "amqp://guest:guest@127.0.0.1:1/?connection_attempts=2&retry_delay=0.1",
            gateway_id="unreachable",
        )
        with pytest.raises(OSError):
            await bus.start(lambda reply: asyncio.sleep(0))

    run(scenario())


async def stand_in_worker(
    queue: aio_pika.abc.AbstractQueue,
    channel: aio_pika.abc.AbstractChannel,
    seen: list[dict[str, Any]] | None = None,
) -> None:
    """Answers every event: a Heartbeat CALL with a CALLRESULT, anything else with nothing."""
    async with queue.iterator() as messages:
        async for message in messages:
            async with message.process():
                _, kwargs, _ = json.loads(message.body)
                event = kwargs["envelope"]
                if seen is not None:
                    seen.append(event)
                send = None
                if event["kind"] == "frame" and json.loads(event["text"])[0] == 2:
                    unique_id = json.loads(event["text"])[1]
                    send = json.dumps([3, unique_id, {"currentTime": "2026-01-01T00:00:00Z"}])
                await channel.default_exchange.publish(
                    aio_pika.Message(env.encode(env.reply(event, send=send))),
                    routing_key=event["reply_to"],
                )


def test_commands_reach_the_gateway_holding_the_charge_point_and_no_other() -> None:
    """A mandatory publish to `levity.calls` with routing key = charge point id reaches the
    connected charger; once it has disconnected the message is unroutable (returned)."""
    exchange_name, cp = private_names()

    async def scenario() -> None:
        bus = AmqpBus(AMQP_URL, gateway_id=f"test-{cp}", exchange=exchange_name, queue=None)
        connection = await aio_pika.connect(AMQP_URL)
        seen: list[dict[str, Any]] = []
        try:
            async with connection, running_gateway(bus) as (_, url):
                channel = await connection.channel()
                inbound = await channel.declare_queue(exclusive=True, auto_delete=True)
                await inbound.bind(exchange_name, routing_key="cp.#")
                consumer = asyncio.create_task(stand_in_worker(inbound, channel, seen))
                publisher = await connection.channel(publisher_confirms=True, on_return_raises=True)
                calls = await publisher.declare_exchange(
                    env.CALLS_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
                )

                async def command(unique_id: str) -> env.CallRequest:
                    request = env.call_request(cp, outbound_call(unique_id))
                    await calls.publish(
                        aio_pika.Message(json.dumps(request).encode()),
                        routing_key=cp,
                        mandatory=True,
                    )
                    return request

                try:
                    with pytest.raises(aio_pika.exceptions.PublishError):
                        await command("before")  # not connected anywhere yet
                    async with connect(f"{url}/ocpp/{cp}", subprotocols=OCPP16) as client:
                        # The worker has seen `connect`, so the binding is in place.
                        await client.send('[2,"hb-1","Heartbeat",{}]')
                        assert json.loads(await client.recv())[1] == "hb-1"
                        request = await command("cmd-1")
                        async with asyncio.timeout(5):
                            assert await client.recv() == request["call"]["text"]
                        await client.send('[3,"cmd-1",{"status":"Accepted"}]')

                    # Unbound shortly after the close; until then a command routed here
                    # comes back as `call_offline`.
                    async with asyncio.timeout(5):
                        while True:
                            try:
                                await command("after")
                            except aio_pika.exceptions.PublishError:
                                break
                            await asyncio.sleep(0.05)
                    await eventually(
                        lambda: "disconnect" in [event["kind"] for event in seen], within=5
                    )
                    kinds = [event["kind"] for event in seen if event["kind"] != "call_offline"]
                    assert kinds == ["connect", "frame", "frame", "disconnect"]
                    offline = [event for event in seen if event["kind"] == "call_offline"]
                    assert all(
                        (event["conn"], event["unique_id"]) == ("", "after") for event in offline
                    )
                finally:
                    consumer.cancel()
        finally:
            await delete_exchange(exchange_name)

    run(scenario(), timeout=30)


def test_gateway_round_trip_over_rabbitmq() -> None:
    """Charger → gateway → RabbitMQ → a stand-in worker → RabbitMQ → gateway → charger."""
    exchange_name, cp = private_names()

    async def scenario() -> None:
        bus = AmqpBus(AMQP_URL, gateway_id=f"test-{cp}", exchange=exchange_name, queue=None)
        connection = await aio_pika.connect(AMQP_URL)
        try:
            async with connection, running_gateway(bus) as (_, url):
                channel = await connection.channel()
                inbound = await channel.declare_queue(exclusive=True, auto_delete=True)
                await inbound.bind(exchange_name, routing_key="cp.#")
                consumer = asyncio.create_task(stand_in_worker(inbound, channel))
                try:
                    async with connect(f"{url}/ocpp/{cp}", subprotocols=OCPP16) as client:
                        for n in range(3):
                            await client.send(f'[2,"hb-{n}","Heartbeat",{{}}]')
                        answers = [json.loads(await client.recv()) for _ in range(3)]
                    assert [answer[1] for answer in answers] == ["hb-0", "hb-1", "hb-2"]
                finally:
                    consumer.cancel()
        finally:
            await delete_exchange(exchange_name)

    run(scenario())


def test_a_burst_of_bindings_does_not_hold_up_publishing() -> None:
    """500 charge points bound at once (a reconnect storm) while events are published: every
    binding routes, and the events do not wait behind the bindings (they have a channel of
    their own; an RPC cancelled by a timeout used to close the channel, and the connection)."""
    exchange_name, cp = private_names()
    ids = [f"{cp}-{n}" for n in range(500)]

    async def scenario() -> None:
        bus = AmqpBus(AMQP_URL, gateway_id=f"test-{cp}", exchange=exchange_name, queue=None)
        await bus.start(lambda message: asyncio.sleep(0))
        connection = await aio_pika.connect(AMQP_URL)
        try:
            async with connection:
                channel = await connection.channel()
                inbound = await channel.declare_queue(exclusive=True, auto_delete=True)
                await inbound.bind(exchange_name, routing_key="cp.#")
                binding = asyncio.gather(*(bus.bind(cp_id) for cp_id in ids))
                await asyncio.sleep(0)  # the bindings are under way, queued on their channel
                event = env.inbound("connect", cp=ids[0], conn="c", gateway="g", reply_to="r")
                await bus.publish(event)
                # Published (and confirmed) while bindings are still being made, not after.
                assert not binding.done()
                await binding
                publisher = await connection.channel(publisher_confirms=True, on_return_raises=True)
                calls = await publisher.declare_exchange(
                    env.CALLS_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
                )
                for cp_id in (ids[0], ids[250], ids[-1]):
                    request = env.call_request(cp_id, outbound_call("x"))
                    await calls.publish(
                        aio_pika.Message(json.dumps(request).encode()),
                        routing_key=cp_id,
                        mandatory=True,
                    )  # raises PublishError if unroutable
                for cp_id in ids:
                    await bus.unbind(cp_id)
                with pytest.raises(aio_pika.exceptions.PublishError):
                    await calls.publish(aio_pika.Message(b"{}"), routing_key=ids[0], mandatory=True)
        finally:
            await bus.close()
            await delete_exchange(exchange_name)

    run(scenario(), timeout=60)


def test_a_binding_cancelled_half_way_leaves_the_bus_working() -> None:
    """A connection handler cancelled while its binding RPC is in flight (aiormq closes a
    channel whose RPC is cancelled; RabbitMQ then closed the whole connection)."""
    exchange_name, cp = private_names()

    async def scenario() -> None:
        bus = AmqpBus(AMQP_URL, gateway_id=f"test-{cp}", exchange=exchange_name, queue=None)
        await bus.start(lambda message: asyncio.sleep(0))
        try:
            for n in range(20):
                task = asyncio.create_task(bus.bind(f"{cp}-{n}"))
                await asyncio.sleep(0.0005 * n)  # cancelled at various points of its RPC
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await bus.bind(f"{cp}-last")
            event = env.inbound("connect", cp=cp, conn="c", gateway="g", reply_to="r")
            with pytest.raises(aio_pika.exceptions.PublishError):
                await bus.publish(event)  # unroutable on the private exchange: but answered
        finally:
            await bus.close()
            await delete_exchange(exchange_name)

    run(scenario(), timeout=30)
