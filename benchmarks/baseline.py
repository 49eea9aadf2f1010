"""The baseline the load benchmarks compare against: the central system a Python user would
otherwise write, the `ocpp` package's `ChargePoint` on `websockets`, in one process, answering
from memory (no broker, no database).

    python -m benchmarks.baseline [--host 127.0.0.1] [--port 9100] [--http-port 9101]

Charge points connect on `/ocpp/<id>` (any id; also `/<id>`). It answers BootNotification
(Accepted), Heartbeat, StatusNotification, Authorize (Accepted), StartTransaction (a new
transaction id), MeterValues and StopTransaction, validating every payload against the OCPP 1.6
schemas as the package does. For the commands benchmark a tiny HTTP server on `--http-port`
takes `POST /api/v1/charge-points/<id>/calls/RemoteStartTransaction/` with the same body as our
API (`{"idTag": …, "connectorId": …}`), sends the CALL and answers `{"response": <payload>}`
(409 when the charge point is not connected). `GET /health` answers the connection count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import signal
from datetime import UTC, datetime
from typing import Any

import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus

logger = logging.getLogger("baseline")
_transaction_ids = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class CentralSystemChargePoint(ChargePoint):
    """One connected charge point, as the `ocpp` package's examples write it."""

    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str, **kwargs):
        return call_result.BootNotification(
            current_time=_now(), interval=300, status=RegistrationStatus.accepted
        )

    @on(Action.heartbeat)
    def on_heartbeat(self):
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    def on_status_notification(self, connector_id: int, error_code: str, status: str, **kwargs):
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str):
        return call_result.Authorize(id_tag_info=IdTagInfo(status=AuthorizationStatus.accepted))

    @on(Action.start_transaction)
    def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int, **kwargs):
        return call_result.StartTransaction(
            transaction_id=next(_transaction_ids),
            id_tag_info=IdTagInfo(status=AuthorizationStatus.accepted),
        )

    @on(Action.meter_values)
    def on_meter_values(self, connector_id: int, meter_value: list, **kwargs):
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    def on_stop_transaction(self, meter_stop: int, timestamp: str, transaction_id: int, **kwargs):
        return call_result.StopTransaction(
            id_tag_info=IdTagInfo(status=AuthorizationStatus.accepted)
        )


class Baseline:
    def __init__(self) -> None:
        self.connected: dict[str, CentralSystemChargePoint] = {}

    async def handle(self, ws: Any) -> None:
        cp_id = ws.request.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        cp = CentralSystemChargePoint(cp_id, ws)
        self.connected[cp_id] = cp
        try:
            await cp.start()
        except websockets.ConnectionClosed:
            pass
        finally:
            if self.connected.get(cp_id) is cp:
                del self.connected[cp_id]

    async def remote_start(self, cp_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        cp = self.connected.get(cp_id)
        if cp is None:
            return 409, {"error": {"code": "NotConnected"}}
        try:
            answer = await cp.call(
                call.RemoteStartTransaction(
                    id_tag=body["idTag"], connector_id=body.get("connectorId")
                )
            )
        except TimeoutError:
            return 504, {"status": "timeout"}
        return 200, {"status": "answered", "response": {"status": answer.status}}

    async def serve_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """HTTP/1.1 with keep-alive, just enough for the benchmark's client."""
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                method, target, _ = request_line.decode().split(" ", 2)
                headers = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                status, answer = await self.route(method, target, body)
                data = json.dumps(answer).encode()
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            writer.close()

    async def route(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        parts = target.split("?")[0].strip("/").split("/")
        if method == "GET" and parts == ["health"]:
            return 200, {"status": "ok", "connections": len(self.connected)}
        # api/v1/charge-points/<id>/calls/RemoteStartTransaction
        if (
            method == "POST"
            and len(parts) == 6
            and parts[:3] == ["api", "v1", "charge-points"]
            and parts[4:] == ["calls", "RemoteStartTransaction"]
        ):
            return await self.remote_start(parts[3], json.loads(body or b"{}"))
        return 404, {"error": "not found"}


async def serve(host: str, port: int, http_port: int) -> None:
    baseline = Baseline()
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    http = await asyncio.start_server(baseline.serve_http, host, http_port)
    async with websockets.serve(
        baseline.handle,
        host,
        port,
        subprotocols=["ocpp1.6"],
        ping_interval=None,
        max_queue=16,
    ):
        print(
            f"baseline listening on ws://{host}:{port}/ocpp/ and http://{host}:{http_port}/",
            flush=True,
        )
        await stop
    http.close()
    with contextlib.suppress(Exception):
        await http.wait_closed()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--http-port", type=int, default=9101)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.host, args.port, args.http_port))


if __name__ == "__main__":
    main()
