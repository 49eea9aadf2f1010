"""Connection limits: idle (zombie) sockets closed, per charger frame rate, options."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from charging.protocol import envelope as env
from gateway.cli import build_parser, config_from_args
from gateway.config import GatewayConfig
from gateway.limits import TokenBucket

from .helpers import FakeBus, eventually, open_client, run, running_gateway


class AnsweringBus(FakeBus):
    """Answers every frame `[3, <its unique id>, {}]` at once, like a fast worker."""

    async def publish(self, envelope: env.Inbound) -> None:
        await super().publish(envelope)
        send = None
        if envelope["kind"] == "frame":
            send = json.dumps([3, json.loads(envelope["text"])[1], {}])
        await self.reply(envelope, send=send)


async def closed_with(client: ClientConnection, *, within: float) -> tuple[int, str]:
    """The close frame the gateway sent, waiting at most `within` seconds for it."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(within):
            while True:
                await client.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def still_open_after(client: ClientConnection, seconds: float, keepalive) -> bool:
    """Run `keepalive(client)` every 0.1 s for `seconds`; True if the gateway never closed."""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            await keepalive(client)
            await asyncio.sleep(0.1)
    except ConnectionClosed:
        return False
    return client.close_code is None


# --- token bucket ------------------------------------------------------------------------------


def test_token_bucket_spends_the_burst_then_holds_to_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=10, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.1)  # the 4th token is earned in 1/rate
    now[0] = 0.1  # the reader waited for it
    assert bucket.take() == pytest.approx(0.1)
    now[0] = 10.0  # a long pause refills up to the burst, no more
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() > 0


def test_token_bucket_refuses_a_rate_of_zero() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1)


# --- idle timeout ------------------------------------------------------------------------------


def test_a_silent_charger_is_closed_with_4000_after_the_idle_timeout() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus, idle_timeout=0.5) as (gateway, url):
            client = await open_client(url)
            began = time.monotonic()
            assert await closed_with(client, within=5) == (4000, "idle timeout")
            assert time.monotonic() - began >= 0.45
            kinds = [(await bus.next())["kind"], (await bus.next())["kind"]]
            disconnect = bus.events[-1]
            assert kinds == ["connect", "disconnect"]
            assert (disconnect["code"], disconnect["reason"]) == (4000, "idle timeout")
            assert b"levity_gateway_idle_closes_total 1.0" in gateway.metrics.exposition()

    run(scenario())


def test_the_idle_close_is_logged_with_the_charge_point(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        async with running_gateway(FakeBus(auto_reply=True), idle_timeout=0.3) as (_, url):
            await closed_with(await open_client(url, "CP-IDLE"), within=5)

    with caplog.at_level(logging.INFO, logger="gateway"):
        run(scenario())
    assert any(
        r.getMessage().startswith("cp=CP-IDLE conn=") and " idle: " in r.getMessage()
        for r in caplog.records
    )


def test_frames_keep_a_charger_from_being_idle() -> None:
    async def heartbeat(client: ClientConnection) -> None:
        await client.send('[2,"hb","Heartbeat",{}]')

    async def scenario() -> None:
        async with running_gateway(FakeBus(auto_reply=True), idle_timeout=0.4) as (_, url):
            client = await open_client(url)
            assert await still_open_after(client, 1.2, heartbeat)
            await client.close()

    run(scenario())


def test_websocket_pings_alone_keep_a_charger_from_being_idle() -> None:
    # OCPP-J 1.6 §5: a charger using websocket pings may send Heartbeats rarely. Any byte
    # counts, control frames too (our pings' pongs likewise).
    async def ping(client: ClientConnection) -> None:
        await client.ping()

    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus, idle_timeout=0.4) as (_, url):
            client = await open_client(url)
            assert await still_open_after(client, 1.2, ping)
            assert [e["kind"] for e in bus.events] == ["connect"]
            await client.close()

    run(scenario())


def test_time_spent_waiting_for_the_workers_is_not_silence() -> None:
    async def scenario() -> None:
        bus = FakeBus()
        options = {"idle_timeout": 0.4, "max_frames_per_second": 0}
        async with running_gateway(bus, **options) as (_, url):
            client = await open_client(url)
            connect_event = await bus.next()  # not answered yet: the forwarder waits on it
            # More frames than the event queue holds (100): the reader stops reading.
            for n in range(120):
                await client.send(f'[2,"{n}","Heartbeat",{{}}]')
            await asyncio.sleep(1.2)
            assert client.close_code is None
            bus.auto_reply = True
            await bus.reply(connect_event)
            await eventually(lambda: len(bus.events) == 121)
            await client.close()

    run(scenario())


def test_idle_timeout_zero_turns_it_off() -> None:
    async def scenario() -> None:
        async with running_gateway(FakeBus(auto_reply=True), idle_timeout=0) as (_, url):
            client = await open_client(url)
            await asyncio.sleep(0.6)
            assert client.close_code is None
            await client.close()

    run(scenario())


# --- frame rate --------------------------------------------------------------------------------


async def flood(url: str, cp: str, frames: int) -> float:
    """Send `frames` CALLs as fast as the socket takes them; seconds until all were answered."""
    client = await open_client(url, cp)
    began = time.monotonic()

    async def send_all() -> None:
        for n in range(frames):
            await client.send(f'[2,"{n}","Heartbeat",{{}}]')

    sender = asyncio.create_task(send_all())
    answered = [json.loads(await client.recv())[1] for _ in range(frames)]
    elapsed = time.monotonic() - began
    await sender
    assert answered == [str(n) for n in range(frames)]  # none dropped, in order
    await client.close()
    return elapsed


def test_a_flooding_charger_is_throttled_not_dropped(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> tuple[float, list[float]]:
        bus = AnsweringBus()
        options = {"max_frames_per_second": 100, "frame_burst": 20}
        async with running_gateway(bus, **options) as (gateway, url):
            flooding = asyncio.create_task(flood(url, "CP-FLOOD", 300))
            await asyncio.sleep(0.3)  # the flood is being throttled by now
            # Meanwhile another charger is served as usual.
            other = await open_client(url, "CP-OTHER")
            latencies = []
            for n in range(10):
                began = time.monotonic()
                await other.send(f'[2,"o{n}","Heartbeat",{{}}]')
                assert json.loads(await other.recv())[1] == f"o{n}"
                latencies.append(time.monotonic() - began)
                await asyncio.sleep(0.05)
            assert not flooding.done()
            await other.close()
            elapsed = await flooding
            exposition = gateway.metrics.exposition().decode()
        delayed = re.search(r"^levity_gateway_throttled_frames_total (\S+)$", exposition, re.M)
        assert delayed is not None and 250 <= float(delayed.group(1)) <= 280
        return elapsed, latencies

    with caplog.at_level(logging.INFO, logger="gateway"):
        elapsed, latencies = run(scenario())
    # 300 frames, 20 at once, then 100/s: at least 2.8 s.
    assert elapsed >= 2.7
    assert max(latencies) < 0.25, latencies
    throttled = [r for r in caplog.records if " throttled: " in r.getMessage()]
    assert len(throttled) == 1  # once per episode
    assert throttled[0].getMessage().startswith("cp=CP-FLOOD conn=")
    assert throttled[0].levelno == logging.WARNING


def test_max_frames_per_second_zero_turns_throttling_off() -> None:
    async def scenario() -> float:
        async with running_gateway(AnsweringBus(), max_frames_per_second=0) as (_, url):
            return await flood(url, "CP-FAST", 300)

    assert run(scenario()) < 2.0


# --- options -----------------------------------------------------------------------------------


def test_limit_defaults() -> None:
    config = GatewayConfig()
    assert config.heartbeat_interval == 3600 and config.idle_timeout is None
    assert config.effective_idle_timeout == 3 * 3600
    assert (config.max_frames_per_second, config.frame_burst) == (20, 40)
    assert config.max_frame_size == 65536
    assert GatewayConfig(idle_timeout=0).effective_idle_timeout is None
    assert GatewayConfig(heartbeat_interval=60).effective_idle_timeout == 180
    assert GatewayConfig(heartbeat_interval=60, idle_timeout=45).effective_idle_timeout == 45


def test_limits_from_the_environment() -> None:
    config = GatewayConfig.from_env(
        {
            "LEVITY_GATEWAY_IDLE_TIMEOUT": "90",
            "LEVITY_GATEWAY_MAX_FRAMES_PER_SECOND": "5",
            "LEVITY_GATEWAY_FRAME_BURST": "10",
            "OCPP_HEARTBEAT_INTERVAL": "300",
        }
    )
    assert (config.idle_timeout, config.heartbeat_interval) == (90, 300)
    assert (config.max_frames_per_second, config.frame_burst) == (5, 10)
    # The gateway's own name wins over the workers' setting.
    both = {"OCPP_HEARTBEAT_INTERVAL": "300", "LEVITY_GATEWAY_HEARTBEAT_INTERVAL": "120"}
    assert GatewayConfig.from_env(both).effective_idle_timeout == 360


def test_limits_on_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEVITY_GATEWAY_MAX_FRAMES_PER_SECOND", "5")
    args = build_parser().parse_args(
        [
            "--heartbeat-interval",
            "600",
            "--idle-timeout",
            "0",
            "--max-frames-per-second",
            "50",
            "--frame-burst",
            "100",
            "--max-frame-size",
            "4096",
        ]
    )
    config = config_from_args(args)
    assert config.heartbeat_interval == 600 and config.effective_idle_timeout is None
    assert (config.max_frames_per_second, config.frame_burst) == (50, 100)
    assert config.max_frame_size == 4096


def test_shutdown_does_not_hang_on_a_reader_blocked_by_a_full_queue() -> None:
    # A flooding charger while the workers do not answer: the reader waits for room in the
    # event queue when shutdown gives up on the forwarders. The handler must still end.
    async def scenario() -> None:
        bus = FakeBus()  # never answers
        options = {"max_frames_per_second": 0, "reply_timeout": 30.0}
        async with running_gateway(bus, **options) as (gateway, url):
            client = await open_client(url)
            await bus.next()  # connect: the forwarder waits for its reply from now on
            for n in range(150):
                await client.send(f'[2,"{n}","Heartbeat",{{}}]')
            await eventually(lambda: gateway.connections["CP-1"]._events.full())
        client.transport.abort()

    finished = threading.Event()

    def in_thread() -> None:
        asyncio.run(scenario())  # its teardown cancels what is left
        finished.set()

    thread = threading.Thread(target=in_thread, daemon=True)
    thread.start()
    thread.join(timeout=20)
    assert finished.is_set()
