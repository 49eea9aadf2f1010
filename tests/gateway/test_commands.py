"""Commands: binding per charge point held, CallRequests queued on the connection or `call_offline`."""

import asyncio

from charging.protocol import envelope as env

from .helpers import (
    FakeBus,
    eventually,
    open_client,
    outbound_call,
    recv,
    run,
    running_gateway,
)


def test_binds_before_connect_is_forwarded_and_unbinds_after_close() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True, bind_delay=0.2)
        async with running_gateway(bus) as (gateway, url):
            client = await open_client(url)
            assert (await bus.next())["kind"] == "connect"
            assert bus.log[:2] == [("bind", "CP-1"), ("publish", "connect")]
            assert bus.bound == {"CP-1"}
            await client.close()
            assert (await bus.next())["kind"] == "disconnect"
            await eventually(lambda: not bus.bound)
            assert bus.log.count(("unbind", "CP-1")) == 1
            assert gateway._binding_locks == {}

    run(scenario())


def test_replaced_connection_does_not_unbind_the_newer_one() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            first = await open_client(url)
            await bus.next()  # connect
            second = await open_client(url)
            kinds = sorted([(await bus.next())["kind"] for _ in range(2)])
            assert kinds == ["connect", "disconnect"]  # the second's connect, the first's end
            await first.wait_closed()
            await asyncio.sleep(0.1)
            assert bus.bound == {"CP-1"}
            assert ("unbind", "CP-1") not in bus.log

            request = env.call_request("CP-1", outbound_call("cmd-1"))
            await bus.deliver(dict(request))
            assert await recv(second) == request["call"]["text"]
            await second.close()
            await eventually(lambda: not bus.bound)

    run(scenario())


def test_call_request_joins_the_outbound_fifo_behind_the_outstanding_call() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            reply_call = outbound_call("auto-1")
            await bus.reply(await bus.next(), calls=[reply_call])  # connect
            assert await recv(client) == reply_call["text"]

            command = outbound_call("cmd-1")
            await bus.deliver(dict(env.call_request("CP-1", command)))
            try:
                async with asyncio.timeout(0.3):
                    await client.recv()
                raise AssertionError("the command did not wait for the outstanding call")
            except TimeoutError:
                pass
            await client.send('[3,"auto-1",{"status":"Accepted"}]')
            assert await recv(client) == command["text"]
            await bus.reply(await bus.next())  # the answer frame
            await client.close()

    run(scenario())


def test_call_request_honours_its_delay() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            await bus.next()  # connect
            loop = asyncio.get_running_loop()
            sent_at = loop.time()
            command = outbound_call("cmd-1", delay=0.4)
            await bus.deliver(dict(env.call_request("CP-1", command)))
            assert await recv(client) == command["text"]
            assert loop.time() - sent_at >= 0.35
            await client.close()

    run(scenario())


def test_call_request_for_a_charge_point_not_held_publishes_call_offline() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            await bus.deliver(dict(env.call_request("CP-GONE", outbound_call("cmd-9"))))
            offline = await bus.next()
            assert offline["kind"] == "call_offline"
            assert (offline["cp"], offline["conn"], offline["unique_id"]) == (
                "CP-GONE",
                "",
                "cmd-9",
            )
            assert offline["gateway"] == "test-gw"
            assert offline["reply_to"] == bus.reply_to
            del url

    run(scenario())


def test_call_request_after_the_socket_closed_publishes_call_offline() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (gateway, url):
            client = await open_client(url)
            connect_event = await bus.next()
            connection = gateway.connections["CP-1"]
            await client.close()
            await eventually(lambda: not connection.is_open)
            # Still registered or not, a closed connection takes no command.
            await bus.deliver(dict(env.call_request("CP-1", outbound_call("cmd-2"))))
            await bus.reply(connect_event)
            kinds = {(await bus.next())["kind"] for _ in range(2)}
            assert kinds == {"call_offline", "disconnect"}

    run(scenario())


def test_bind_failure_still_serves_the_charger() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        bus.fail_bind = True
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            assert (await bus.next())["kind"] == "connect"
            await client.send('[2,"hb-1","Heartbeat",{}]')
            assert (await bus.next())["kind"] == "frame"
            await client.close()

    run(scenario())


def test_malformed_or_unknown_messages_are_dropped() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            await bus.next()  # connect
            await bus.deliver({"v": 1, "type": "call", "cp": "CP-1", "call": {"text": "x"}})
            await bus.deliver({"v": 1, "type": "call", "cp": 7, "call": outbound_call("c")})
            await bus.deliver({"v": 1, "type": "mystery", "cp": "CP-1"})
            assert await bus.nothing_published(within=0.2)
            try:
                async with asyncio.timeout(0.2):
                    await client.recv()
                raise AssertionError("a dropped message reached the charger")
            except TimeoutError:
                pass
            await client.close()

    run(scenario())


def test_close_request_closes_the_named_connection_only() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (gateway, url):
            client = await open_client(url)
            connect = await bus.next()
            # Another connection id (an older one, gone already): ignored.
            await bus.deliver(dict(env.close_request("CP-1", "someone-else")))
            await bus.deliver(dict(env.close_request("CP-2", connect["conn"])))
            assert await bus.nothing_published()
            assert gateway.connections["CP-1"].is_open

            await bus.deliver(dict(env.close_request("CP-1", connect["conn"])))
            await client.wait_closed()
            assert (client.close_code, client.close_reason) == (
                1000,
                "replaced by a newer connection",
            )
            disconnect = await bus.next()
            assert (disconnect["kind"], disconnect["code"]) == ("disconnect", 1000)
            await eventually(lambda: not bus.bound)

    run(scenario())
