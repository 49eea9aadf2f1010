"""Per-connection flow control: one event in flight, reply timeouts, the outbound CALL queue."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

from charging.protocol import CallError, CallResult, parse
from charging.protocol import envelope as env

from .helpers import (
    FakeBus,
    nothing_received,
    open_client,
    outbound_call,
    recv,
    run,
    running_gateway,
)

HEARTBEAT = '[2,"hb-{}","Heartbeat",{{}}]'


def test_connect_first_then_frames_in_order_then_disconnect_last() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            for n in range(3):
                await client.send(HEARTBEAT.format(n))
            await client.close()
            events = [await bus.next() for _ in range(5)]
        assert [e["kind"] for e in events] == ["connect", "frame", "frame", "frame", "disconnect"]
        assert [e["text"] for e in events[1:4]] == [HEARTBEAT.format(n) for n in range(3)]
        assert (events[-1]["code"], events[-1]["reason"]) == (1000, "")
        assert len({e["id"] for e in events}) == 5
        assert len({e["conn"] for e in events}) == 1
        for event in events:
            assert event["cp"] == "CP-1"
            assert event["gateway"] == "test-gw"
            assert event["reply_to"] == bus.reply_to

    run(scenario())


def test_one_event_at_a_time() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            await bus.reply(await bus.next())  # connect
            await client.send(HEARTBEAT.format(1))
            await client.send(HEARTBEAT.format(2))
            first = await bus.next()
            assert first["text"] == HEARTBEAT.format(1)
            assert await bus.nothing_published(within=0.3)  # the second waits for the reply

            answer = '[3,"hb-1",{"currentTime":"2026-01-01T00:00:00Z"}]'
            await bus.reply(first, send=answer)
            assert await recv(client) == answer
            second = await bus.next()
            assert second["text"] == HEARTBEAT.format(2)
            await client.close()

    run(scenario())


def test_disconnect_waits_for_earlier_events() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            await bus.reply(await bus.next())  # connect
            await client.send(HEARTBEAT.format(1))
            await client.close()
            frame = await bus.next()
            assert await bus.nothing_published(within=0.3)
            await bus.reply(frame, send='[3,"hb-1",{}]')  # socket gone: not sent, no error
            disconnect = await bus.next()
            assert disconnect["kind"] == "disconnect"

    run(scenario())


def test_reply_timeout_answers_a_call_with_internal_error() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus, reply_timeout=0.3) as (_, url):
            client = await open_client(url)
            await bus.reply(await bus.next())  # connect
            await client.send(HEARTBEAT.format(1))
            await bus.next()  # never answered
            error = parse(await recv(client))
            assert isinstance(error, CallError)
            assert (error.unique_id, error.error_code) == ("hb-1", "InternalError")
            # ...and the connection goes on with the next event.
            await client.send(HEARTBEAT.format(2))
            assert (await bus.next())["text"] == HEARTBEAT.format(2)
            await client.close()

    run(scenario())


def test_reply_timeout_answers_nothing_for_results_and_garbage() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus, reply_timeout=0.2) as (_, url):
            client = await open_client(url)
            await bus.reply(await bus.next())  # connect
            await client.send('[3,"x",{}]')
            await client.send("not json")
            assert (await bus.next())["text"] == '[3,"x",{}]'
            assert (await bus.next())["text"] == "not json"
            assert await nothing_received(client, within=0.5)
            await client.close()

    run(scenario())


def test_late_reply_is_dropped() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus, reply_timeout=0.2) as (_, url):
            client = await open_client(url)
            await bus.reply(await bus.next())  # connect
            await client.send(HEARTBEAT.format(1))
            frame = await bus.next()
            assert isinstance(parse(await recv(client)), CallError)
            await bus.reply(frame, send='[3,"hb-1",{}]')
            assert await nothing_received(client, within=0.3)
            await client.close()

    run(scenario())


def test_publish_failure_answers_internal_error_and_goes_on() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            await bus.next()  # connect
            bus.fail_publish = True
            await client.send(HEARTBEAT.format(1))
            error = parse(await recv(client))
            assert isinstance(error, CallError) and error.error_code == "InternalError"
            bus.fail_publish = False
            await client.send(HEARTBEAT.format(2))
            assert (await bus.next())["text"] == HEARTBEAT.format(2)
            await client.close()

    run(scenario())


def test_events_that_are_not_calls_wait_for_the_broker_in_order() -> None:
    """A connect, the charger's answer to our CALL, a disconnect: nobody would send them again,
    so while publishing fails they are published again until the broker takes them."""

    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        bus.fail_publish = True
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            await client.send('[3,"our-call",{}]')  # an answer (no CALL of ours: still relayed)
            await asyncio.sleep(0.5)  # several failed attempts (backoff 0.1 s, 0.2 s, ...)
            assert bus.events == []
            bus.fail_publish = False
            kinds = [(await bus.next())["kind"], (await bus.next(within=3))["kind"]]
            assert kinds == ["connect", "frame"]
            assert bus.events[1]["text"] == '[3,"our-call",{}]'
            await client.close()
            assert (await bus.next())["kind"] == "disconnect"

    run(scenario())


def test_malformed_and_binary_frames_are_forwarded() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            await bus.next()  # connect
            await client.send("[2,")
            await client.send(b'\xff[2,"b","Heartbeat",{}]')
            assert (await bus.next())["text"] == "[2,"
            assert (await bus.next())["text"] == '\ufffd[2,"b","Heartbeat",{}]'
            await client.close()

    run(scenario())


def test_frame_over_max_size_closes_with_1009() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus, max_frame_size=1024) as (_, url):
            client = await open_client(url)
            await bus.next()  # connect
            await client.send('[2,"1","DataTransfer",{"data":"' + "x" * 2000 + '"}]')
            disconnect = await bus.next()
            assert (disconnect["kind"], disconnect["code"]) == ("disconnect", 1009)
            await client.close()

    run(scenario())


def test_outbound_calls_one_outstanding_released_by_the_answer() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            calls = [outbound_call("c1"), outbound_call("c2")]
            await bus.reply(await bus.next(), calls=calls)
            assert await recv(client) == calls[0]["text"]
            assert await nothing_received(client, within=0.3)  # c2 waits for c1's answer

            # Charger-initiated CALLs keep flowing meanwhile.
            await client.send(HEARTBEAT.format(1))
            heartbeat = await bus.next()
            await bus.reply(heartbeat, send='[3,"hb-1",{}]')
            assert await recv(client) == '[3,"hb-1",{}]'

            await client.send('[3,"c1",{"status":"Accepted"}]')
            answer = await bus.next()
            assert (answer["kind"], answer["text"]) == ("frame", '[3,"c1",{"status":"Accepted"}]')
            assert await recv(client) == calls[1]["text"]
            await bus.reply(answer)
            await client.close()

    run(scenario())


def test_outbound_call_error_also_releases_the_slot() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (gateway, url):
            client = await open_client(url)
            connected = await bus.next()
            calls = [outbound_call("c1"), outbound_call("c2")]
            bus.auto_reply = False
            await client.send(HEARTBEAT.format(1))
            await bus.reply(await bus.next(), send='[3,"hb-1",{}]', calls=calls)
            assert connected["kind"] == "connect"
            assert await recv(client) == '[3,"hb-1",{}]'
            assert await recv(client) == calls[0]["text"]
            await client.send('[3,"other",{}]')  # not c1: no release
            await bus.reply(await bus.next())
            assert await nothing_received(client, within=0.2)
            await client.send('[4,"c1","NotSupported","",{}]')
            await bus.reply(await bus.next())
            assert await recv(client) == calls[1]["text"]
            await client.close()

    run(scenario())


def test_outbound_call_timeout_reports_and_sends_the_next() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            calls = [outbound_call("c1", timeout=0.3), outbound_call("c2")]
            await bus.reply(await bus.next(), calls=calls)
            assert await recv(client) == calls[0]["text"]
            timeout = await bus.next(within=2.0)
            assert (timeout["kind"], timeout["unique_id"]) == ("call_timeout", "c1")
            assert await recv(client) == calls[1]["text"]
            await bus.reply(timeout)
            await client.close()

    run(scenario())


def test_outbound_call_delay_is_honoured() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            loop = asyncio.get_running_loop()
            calls = [outbound_call("late", delay=0.5), outbound_call("now")]
            await bus.reply(await bus.next(), calls=calls)
            started = loop.time()
            assert await recv(client) == calls[1]["text"]
            assert loop.time() - started < 0.3
            await client.send('[3,"now",{}]')
            await bus.reply(await bus.next())
            assert await recv(client) == calls[0]["text"]
            assert loop.time() - started >= 0.45
            await client.close()

    run(scenario())


def test_a_due_call_with_confirm_is_sent_only_as_the_workers_reply_to_call_due() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            wanted = {**outbound_call("wanted", delay=0.3), "confirm": True}
            unwanted = {**outbound_call("unwanted", delay=0.3), "confirm": True}
            await bus.reply(await bus.next(), calls=[wanted, unwanted])
            # A frame received before the calls are due goes to the workers first: past their
            # delay, they wait for its reply (one event in flight), and nothing is sent.
            await client.send(HEARTBEAT.format(1))
            heartbeat = await bus.next()
            assert heartbeat["kind"] == "frame"
            assert await bus.nothing_published(within=0.5)
            assert await nothing_received(client, within=0.0)
            await bus.reply(heartbeat)
            due = await bus.next()
            assert (due["kind"], due["unique_id"]) == ("call_due", "wanted")
            await bus.reply(due, calls=[{**wanted, "delay": 0.0, "confirm": False}])
            assert await recv(client) == wanted["text"]
            due = await bus.next()
            assert (due["kind"], due["unique_id"]) == ("call_due", "unwanted")
            await bus.reply(due)  # no longer wanted: nothing is sent
            await client.send('[3,"wanted",{}]')
            await bus.reply(await bus.next())
            assert await nothing_received(client, within=0.3)
            await client.close()

    run(scenario())


def test_queued_outbound_calls_are_dropped_on_close() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (gateway, url):
            client = await open_client(url)
            calls = [outbound_call("c1", timeout=0.2), outbound_call("c2", delay=0.2)]
            await bus.reply(await bus.next(), calls=calls)
            assert await recv(client) == calls[0]["text"]
            await client.close()
            disconnect = await bus.next()
            assert disconnect["kind"] == "disconnect"
            await bus.reply(disconnect)
            assert await bus.nothing_published(within=0.5)  # no call_timeout after close
            assert gateway.connections == {}

    run(scenario())


def test_reply_send_is_written_as_is() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            await bus.reply(await bus.next())
            await client.send(HEARTBEAT.format(1))
            result = CallResult("hb-1", {"currentTime": "2026-01-01T00:00:00Z"}).to_json()
            await bus.reply(await bus.next(), send=result)
            assert json.loads(await recv(client)) == json.loads(result)
            await client.close()

    run(scenario())


def test_only_calls_expire_after_the_reply_timeout() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            client = await open_client(url)
            before = datetime.now(UTC)
            await client.send(HEARTBEAT.format(1))
            await client.send(json.dumps([3, "answer-1", {}]))
            await client.send("not a frame")
            await client.close()
            events = [await bus.next() for _ in range(5)]
        call, result, garbage = events[1:4]
        expires = datetime.fromisoformat(call["expires"])
        # The test gateway's reply timeout is 5 s (tests/gateway/helpers.py).
        assert before + timedelta(seconds=4) < expires < datetime.now(UTC) + timedelta(seconds=6)
        assert "expires" not in result and "expires" not in garbage
        assert "expires" not in events[0] and "expires" not in events[-1]
        _, headers, properties = env.celery_message(call)
        assert headers["expires"] == call["expires"]
        # The broker drops it at the same time (per-message TTL, seconds left).
        assert 0 < properties["expiration"] <= 5
        _, headers, properties = env.celery_message(result)
        assert headers["expires"] is None and "expiration" not in properties

    run(scenario())
