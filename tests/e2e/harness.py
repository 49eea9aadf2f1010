"""The pytest layer over levity.devstack: Django code off the charger's event loop, and the
chargers of particular test scenarios."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from django.db import connections
from ocpp.v16 import call

from levity.devstack import SimulatedChargePoint


def in_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run blocking Django code off the event loop (the charger runs on it); awaitable."""

    def run() -> Any:
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    return asyncio.to_thread(run)


class LoopingChargePoint(SimulatedChargePoint):
    """A charger like a widely used simulator's defaults (issue 13): it accepts every
    RemoteStartTransaction, even while charging, and then reports `Preparing` again and starts a
    new transaction with the idTag it was given (which the server must close as an orphan)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remote_sessions: list[int] = []  # transaction ids of the starts it was asked for

    def _result(self, action: str, kwargs: dict[str, Any]) -> Any:
        result = super()._result(action, kwargs)
        if action == "RemoteStartTransaction" and result.status == "Accepted":
            task = asyncio.create_task(
                self._start_remotely(kwargs.get("connector_id") or 1, kwargs["id_tag"])
            )
            self._later.add(task)
            task.add_done_callback(self._later.discard)
        return result

    async def _start_remotely(self, connector_id: int, id_tag: str) -> None:
        await self.call(
            call.StatusNotification(
                connector_id=connector_id, error_code="NoError", status="Preparing"
            )
        )
        start = await self.call(
            call.StartTransaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=0,
                timestamp=datetime.now(UTC).isoformat(),
            )
        )
        self.remote_sessions.append(start.transaction_id)
        await self.call(
            call.StatusNotification(
                connector_id=connector_id, error_code="NoError", status="Charging"
            )
        )
