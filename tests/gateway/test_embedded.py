"""The embedded LocalBus behind a real gateway: commands from other threads, the publisher hook."""

import asyncio
import threading
from typing import Any

import pytest
from websockets.asyncio.client import connect

import gateway.cli
import levity.embedded
from charging.protocol import envelope as env
from levity.embedded import LocalBus
from tasks import transport

from .helpers import OCPP16, eventually, outbound_call, run, running_gateway


class RecordingHandler:
    """Stands in for charging.dispatch.handle_inbound: answers every event, records its kind."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.threads: set[str] = set()

    def __call__(self, envelope: dict[str, Any]) -> dict[str, Any]:
        self.kinds.append(envelope["kind"])
        self.threads.add(threading.current_thread().name)
        return dict(env.reply(envelope))  # type: ignore[arg-type]


async def from_another_thread(bus: LocalBus, request: env.CallRequest) -> bool:
    return await asyncio.to_thread(bus.submit_call, request)


def test_submit_call_reaches_the_connected_charger_and_is_refused_otherwise() -> None:
    async def scenario() -> None:
        handler = RecordingHandler()
        bus = LocalBus(handler)
        request = env.call_request("EMB-1", outbound_call("cmd-1"))
        assert bus.submit_call(request) is False  # not started
        async with running_gateway(bus) as (_, url):
            assert await from_another_thread(bus, request) is False  # nobody holds EMB-1
            async with connect(f"{url}/ocpp/EMB-1", subprotocols=OCPP16) as client:
                await eventually(lambda: handler.kinds == ["connect"])
                assert await from_another_thread(bus, request) is True
                async with asyncio.timeout(2):
                    assert await client.recv() == request["call"]["text"]
                other = env.call_request("EMB-2", outbound_call("cmd-2"))
                assert await from_another_thread(bus, other) is False
            await eventually(lambda: "disconnect" in handler.kinds)
            await eventually(lambda: not bus.submit_call(request))
        assert handler.threads and all(t.startswith("levity-worker") for t in handler.threads)

    run(scenario())


def test_no_local_publisher_outside_the_embedded_process() -> None:
    assert transport._local_publisher is None


def test_main_publishes_the_running_bus_s_submit_call(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    class Web:
        server_port = 8123
        stopped = False

        def shutdown(self) -> None:
            self.stopped = True

        def server_close(self) -> None:
            pass

    web = Web()

    async def fake_run(config: Any, bus: Any = None) -> None:
        seen["bus"] = bus
        seen["publisher"] = transport._local_publisher

    monkeypatch.setattr(levity.embedded, "django_handler", RecordingHandler)
    monkeypatch.setattr(levity.embedded, "serve_web", lambda host, port: web)
    monkeypatch.setattr(gateway.cli, "run", fake_run)
    levity.embedded.main(["--port", "0", "--web-port", "0"])
    assert seen["publisher"] == seen["bus"].submit_call
    assert transport._local_publisher is None
    assert web.stopped
