"""Handshakes, health, subprotocols, the newest connection winning, graceful shutdown."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from .helpers import OCPP16, FakeBus, http_get, run, running_gateway


def test_health_reports_gateway_and_connections() -> None:
    async def scenario() -> None:
        async with running_gateway(FakeBus(auto_reply=True)) as (_, url):
            status, headers, body = await http_get(url, "/health")
            assert status == 200
            assert headers["content-type"] == "application/json"
            assert json.loads(body) == {
                "status": "ok",
                "gateway": "test-gw",
                "connections": 0,
                "draining": 0,
                "presence": "off",
            }
            async with connect(f"{url}/ocpp/CP-1", subprotocols=OCPP16):
                _, _, body = await http_get(url, "/health")
                assert json.loads(body)["connections"] == 1

    run(scenario())


@pytest.mark.parametrize(
    ("path", "status"),
    [("/a/b", 404), ("/", 404), ("/ocpp/", 400), ("/ocpp/a%20b", 400), ("/ocpp/" + "x" * 49, 400)],
)
def test_bad_paths_are_refused_in_the_handshake(path: str, status: int) -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(url + path, subprotocols=OCPP16):
                    pass
            assert refused.value.response.status_code == status
        assert bus.events == []

    run(scenario())


@pytest.mark.parametrize(
    ("offered", "selected"),
    [(["ocpp1.6"], "ocpp1.6"), (["ocpp2.0.1", "ocpp1.6"], "ocpp1.6"), ([], None)],
)
def test_subprotocol_ocpp16_or_none(offered: list[str], selected: str | None) -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            offer = [Subprotocol(name) for name in offered] or None
            async with connect(f"{url}/ocpp/CP-1", subprotocols=offer) as client:
                assert client.subprotocol == selected
                connected = await bus.next()
            assert connected["kind"] == "connect"
            assert connected["subprotocol"] == selected
            assert connected["remote"].startswith("127.0.0.1:")

    run(scenario())


def test_only_other_subprotocols_are_refused() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            with pytest.raises(InvalidStatus) as refused:
                async with connect(f"{url}/ocpp/CP-1", subprotocols=[Subprotocol("ocpp2.0.1")]):
                    pass
            assert refused.value.response.status_code == 400
        assert bus.events == []

    run(scenario())


def test_all_three_path_forms_are_accepted() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (_, url):
            for path, cp in [("/ocpp/A", "A"), ("/ws/B", "B"), ("/C%2E1", "C.1")]:
                async with connect(url + path, subprotocols=OCPP16):
                    connected = await bus.next()
                    assert (connected["kind"], connected["cp"]) == ("connect", cp)
                assert (await bus.next())["kind"] == "disconnect"

    run(scenario())


def test_newest_connection_wins() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (gateway, url):
            old = await connect(f"{url}/ocpp/CP-1", subprotocols=OCPP16)
            old_connect = await bus.next()
            async with connect(f"{url}/ocpp/CP-1", subprotocols=OCPP16) as new:
                new_connect = await bus.next()
                assert new_connect["conn"] != old_connect["conn"]
                with pytest.raises(ConnectionClosed) as closed:
                    await old.recv()
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 1000
                assert "replaced" in closed.value.rcvd.reason
                old_disconnect = await bus.next()
                assert old_disconnect["kind"] == "disconnect"
                assert old_disconnect["conn"] == old_connect["conn"]
                assert old_disconnect["code"] == 1000
                assert gateway.connections["CP-1"].id == new_connect["conn"]
                # The new connection still works.
                await new.send('[2,"1","Heartbeat",{}]')
                frame = await bus.next()
                assert (frame["kind"], frame["conn"]) == ("frame", new_connect["conn"])
            await old.close()

    run(scenario())


def test_stop_closes_sockets_with_1001_and_delivers_disconnects() -> None:
    async def scenario() -> None:
        bus = FakeBus(auto_reply=True)
        async with running_gateway(bus) as (gateway, url):
            client = await connect(f"{url}/ocpp/CP-1", subprotocols=OCPP16)
            await bus.next()
            await gateway.stop()
            with pytest.raises(ConnectionClosed) as closed:
                await client.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
            disconnect = await bus.next()
            assert (disconnect["kind"], disconnect["code"]) == ("disconnect", 1001)
            assert bus.closed
            assert gateway.connections == {}

    run(scenario())


def test_stop_gives_up_on_unanswered_events_after_drain_timeout() -> None:
    async def scenario() -> None:
        bus = FakeBus()  # never replies
        async with running_gateway(bus, reply_timeout=30.0, drain_timeout=0.3) as (gateway, url):
            client = await connect(f"{url}/ocpp/CP-1", subprotocols=OCPP16)
            await bus.next()
            loop = asyncio.get_running_loop()
            started = loop.time()
            await gateway.stop()
            assert loop.time() - started < 2.0
            assert bus.closed
            await client.close()

    run(scenario())


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(
            b"GET /ocpp/CP-1 HTTP/1.1\r\nX-Big: " + b"a" * 10_000 + b"\r\n\r\n", id="long-header"
        ),
        pytest.param(
            b"GET /ocpp/CP-1 HTTP/1.1\r\n"
            + b"".join(b"X-%d: 1\r\n" % n for n in range(300))
            + b"\r\n",
            id="too-many-headers",
        ),
        pytest.param(b"NOT HTTP AT ALL\r\n\r\n", id="garbage"),
    ],
)
def test_oversized_or_malformed_handshakes_are_refused_and_others_served(request_bytes) -> None:
    async def scenario() -> None:
        async with running_gateway(FakeBus(auto_reply=True)) as (_, url):
            host, port = url.removeprefix("ws://").split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(request_bytes)
            await writer.drain()
            async with asyncio.timeout(5):
                answer = await reader.read()  # the gateway answers (or not) and closes
            writer.close()
            assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:80]
            async with connect(f"{url}/ocpp/CP-2", subprotocols=OCPP16) as client:
                assert client.protocol.state.name == "OPEN"

    run(scenario())


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(b"GET /ocpp/CP 1 HTTP/1.1\r\nHost: x\r\n\r\n", id="raw-space"),
        pytest.param(b"NOT HTTP AT ALL\r\n\r\n", id="garbage"),
    ],
)
def test_a_request_that_cannot_be_parsed_is_answered_400_and_logged(request_bytes, caplog) -> None:
    async def scenario() -> tuple[bytes, str]:
        async with running_gateway(FakeBus(auto_reply=True)) as (_, url):
            host, port = url.removeprefix("ws://").split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            address, local_port = writer.get_extra_info("sockname")[:2]
            local = f"{address}:{local_port}"
            writer.write(request_bytes)
            await writer.drain()
            async with asyncio.timeout(5):
                answer = await reader.read()
            writer.close()
            return answer, local

    with caplog.at_level("INFO", logger="gateway.server"):
        answer, peer = run(scenario())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert (
        body.startswith(b"Bad request: malformed HTTP request (")
        and request_bytes.split(b"\r\n")[0] in body
    )
    refusals = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1 and refusals[0].levelname == "INFO"
    assert refusals[0].getMessage().endswith(f" from {peer}")
    assert "cp=- refused: 400 Bad request: malformed HTTP request" in refusals[0].getMessage()


def test_refusals_websockets_makes_itself_are_logged(caplog) -> None:
    async def scenario() -> int:
        async with running_gateway(FakeBus(auto_reply=True)) as (_, url):
            status, _, _ = await http_get(url, "/ocpp/CP-1")  # no Upgrade header
            return status

    with caplog.at_level("INFO", logger="gateway.server"):
        assert run(scenario()) == 426
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert (
        len(refusals) == 1
        and "refused: 426 missing Connection header for '/ocpp/CP-1' from 127.0.0.1:" in refusals[0]
    )


@pytest.mark.parametrize(
    ("compression", "negotiated"),
    [
        ("deflate", "permessage-deflate; server_max_window_bits=11; client_max_window_bits=11"),
        ("off", None),
    ],
)
def test_compression_is_lean_or_off(compression: str, negotiated: str | None) -> None:
    async def scenario() -> None:
        bus = FakeBus()
        # websockets' client offers deflate with client_max_window_bits, as many chargers do.
        async with (
            running_gateway(bus, compression=compression) as (_, url),
            connect(f"{url}/ocpp/CP-1", subprotocols=OCPP16) as client,
        ):
            assert client.response is not None
            assert client.response.headers.get("Sec-WebSocket-Extensions") == negotiated
            await bus.reply(await bus.next())  # connect
            await client.send(json.dumps([2, "1", "Heartbeat", {}]))
            answer = json.dumps([3, "1", {"currentTime": "2026-12-01T00:00:00Z" * 20}])
            await bus.reply(await bus.next(), send=answer)
            assert await client.recv() == answer

    run(scenario())
