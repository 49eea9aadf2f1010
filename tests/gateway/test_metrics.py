"""The gateway's /metrics, scraped over real HTTP after real websocket exchanges, and its logs."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from gateway.metrics import UNKNOWN

from .helpers import OCPP16, FakeBus, http_get, outbound_call, run, running_gateway

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(url: str) -> Samples:
    status, headers, body = await http_get(url, "/metrics")
    assert status == 200
    assert headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when the series does not exist (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def frames(samples: Samples, direction: str, message_type: str, action: str) -> float:
    return value(
        samples,
        "levity_gateway_frames_total",
        direction=direction,
        message_type=message_type,
        action=action,
    )


def test_frames_connections_and_call_latency_move_after_an_exchange() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (_, url):
            before = await scrape(url)
            assert value(before, "levity_gateway_connections") == 0
            assert frames(before, "in", "CALL", "Heartbeat") == 0

            client = await connect(f"{url}/ocpp/CP-1", subprotocols=OCPP16)
            connected = await bus.next()
            # The worker's reply to `connect` asks for a RemoteStartTransaction.
            await bus.reply(connected, calls=[outbound_call("rs-1")])
            assert '"RemoteStartTransaction"' in await client.recv()
            during = await scrape(url)
            assert value(during, "levity_gateway_connections") == 1
            assert value(during, "levity_gateway_connections_accepted_total") == 1
            assert value(during, "levity_gateway_outstanding_calls") == 1
            assert frames(during, "out", "CALL", "RemoteStartTransaction") == 1

            await asyncio.sleep(0.05)  # a measurable latency
            await client.send('[3,"rs-1",{"status":"Accepted"}]')
            await bus.reply(await bus.next())
            await client.send('[2,"hb-1","Heartbeat",{}]')
            heartbeat = await bus.next()
            await bus.reply(heartbeat, send='[3,"hb-1",{"currentTime":"2026-01-01T00:00:00Z"}]')
            assert (await client.recv()).startswith('[3,"hb-1"')
            await client.send("not json")
            await bus.reply(await bus.next())
            await client.send('[3,"nobody-asked",{}]')
            await bus.reply(await bus.next())

            after = await scrape(url)
            assert frames(after, "in", "CALLRESULT", "RemoteStartTransaction") == 1
            assert frames(after, "in", "CALL", "Heartbeat") == 1
            assert frames(after, "out", "CALLRESULT", "Heartbeat") == 1
            assert frames(after, "in", "invalid", UNKNOWN) == 1
            assert frames(after, "in", "CALLRESULT", UNKNOWN) == 1
            assert value(after, "levity_gateway_outstanding_calls") == 0
            count = ("levity_gateway_call_seconds_count", "RemoteStartTransaction")
            total = ("levity_gateway_call_seconds_sum", "RemoteStartTransaction")
            assert value(after, count[0], action=count[1]) == 1
            assert 0.05 <= value(after, total[0], action=total[1]) < 2
            await client.close()
            assert (await bus.next())["kind"] == "disconnect"
            assert value(await scrape(url), "levity_gateway_connections") == 0

    run(scenario())


def test_a_callerror_we_answer_carries_the_action_of_the_call() -> None:
    async def scenario() -> None:
        async with running_gateway(FakeBus(), reply_timeout=0.2) as (_, url):
            async with connect(f"{url}/ocpp/CP-1", subprotocols=OCPP16) as client:
                await client.send('[2,"a-1","Authorize",{"idTag":"T"}]')
                assert (await client.recv()).startswith('[4,"a-1","InternalError"')
                samples = await scrape(url)
            assert frames(samples, "out", "CALLERROR", "Authorize") == 1
            # connect and the CALL itself went unanswered by the (silent) worker.
            assert value(samples, "levity_gateway_reply_timeouts_total", kind="connect") == 1
            assert value(samples, "levity_gateway_reply_timeouts_total", kind="frame") == 1

    run(scenario(), timeout=15)


def test_unknown_actions_are_not_label_values() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            async with connect(f"{url}/ocpp/CP-1", subprotocols=OCPP16) as client:
                await client.send('[2,"x-1","MadeUpAction",{}]')
                await bus.next()
                await bus.next()
                samples = await scrape(url)
            assert frames(samples, "in", "CALL", UNKNOWN) == 1
            assert not any("MadeUpAction" in str(key) for key in samples)

    run(scenario())


def test_call_timeouts_and_publish_failures_are_counted() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (_, url):
            async with connect(f"{url}/ocpp/CP-1", subprotocols=OCPP16) as client:
                await bus.reply(await bus.next(), calls=[outbound_call("rs-1", timeout=0.1)])
                await client.recv()  # never answered
                timeout = await bus.next()
                assert timeout["kind"] == "call_timeout"
                bus.fail_publish = True
                await bus.reply(timeout)
                await client.send('[2,"hb-1","Heartbeat",{}]')
                assert (await client.recv()).startswith('[4,"hb-1","InternalError"')
                samples = await scrape(url)
            assert (
                value(
                    samples, "levity_gateway_call_timeouts_total", action="RemoteStartTransaction"
                )
                == 1
            )
            assert (
                value(samples, "levity_gateway_call_seconds_count", action="RemoteStartTransaction")
                == 0
            )
            assert value(samples, "levity_gateway_publish_failures_total", kind="frame") == 1

    run(scenario())


def test_handshake_refusals_are_counted_by_reason() -> None:
    async def scenario() -> None:
        async with running_gateway(FakeBus(auto_reply=True)) as (_, url):
            for path, offer in [
                ("/a/b", OCPP16),
                ("/ocpp/a%20b", OCPP16),
                ("/ocpp/" + "x" * 49, OCPP16),
                ("/ocpp/CP-1", [Subprotocol("ocpp2.0.1")]),
            ]:
                with pytest.raises(InvalidStatus):
                    async with connect(url + path, subprotocols=offer):
                        pass
            samples = await scrape(url)
        refusals = "levity_gateway_handshake_refusals_total"
        assert value(samples, refusals, reason="unknown_path") == 1
        assert value(samples, refusals, reason="bad_id") == 2
        assert value(samples, refusals, reason="subprotocol") == 1
        assert value(samples, "levity_gateway_connections_accepted_total") == 0

    run(scenario())


def test_each_gateway_has_its_own_registry() -> None:
    async def scenario() -> None:
        async with (
            running_gateway(FakeBus(auto_reply=True)) as (_, first),
            running_gateway(FakeBus(auto_reply=True)) as (_, second),
            connect(f"{first}/ocpp/CP-1", subprotocols=OCPP16) as client,
        ):
            await client.send('[2,"hb-1","Heartbeat",{}]')
            await asyncio.sleep(0.1)
            assert frames(await scrape(first), "in", "CALL", "Heartbeat") == 1
            assert frames(await scrape(second), "in", "CALL", "Heartbeat") == 0
            assert value(await scrape(second), "levity_gateway_connections") == 0

    run(scenario())


def test_logs_name_the_charge_point_on_every_frame_and_connection_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway")

    async def scenario() -> None:
        bus = FakeBus()
        async with running_gateway(bus) as (_, url):
            async with connect(f"{url}/ocpp/CP-7", subprotocols=OCPP16) as client:
                await bus.reply(await bus.next())
                await client.send('[2,"hb-1","Heartbeat",{}]')
                await bus.reply(await bus.next(), send='[3,"hb-1",{"currentTime":"x"}]')
                await client.recv()
            await bus.reply(await bus.next())  # disconnect
            with pytest.raises(InvalidStatus):
                async with connect(f"{url}/nope/x", subprotocols=OCPP16):
                    pass
            with pytest.raises(InvalidStatus):
                async with connect(f"{url}/ocpp/CP-8", subprotocols=[Subprotocol("v2")]):
                    pass

    run(scenario())
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name.startswith("gateway")]
    assert (logging.DEBUG, "cp=CP-7 in CALL Heartbeat hb-1") in lines
    assert (logging.DEBUG, "cp=CP-7 out CALLRESULT Heartbeat hb-1") in lines
    info = [message for level, message in lines if level == logging.INFO]
    assert any(m.startswith("cp=CP-7 conn=") and " connected from 127.0.0.1:" in m for m in info)
    assert any(m.startswith("cp=CP-7 conn=") and "disconnected (1000" in m for m in info)
    assert any(m.startswith("cp=- refused: 404") and "/nope/x" in m for m in info)
    assert any(m.startswith("cp=CP-8 refused: subprotocols v2") for m in info)
