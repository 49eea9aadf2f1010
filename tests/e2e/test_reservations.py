"""Reservations through the whole stack: ReserveNow without an id gets a reservation's, the
charger's answer and its StartTransaction carrying the reservationId keep our view in sync;
CancelReservation ends one."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone
from ocpp.v16 import call as ocpp_call

from charging import commands
from charging.models import Reservation, Transaction
from levity.devstack import charger

from .test_commands import WAIT, _connected, in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db")]


def test_reserve_use_and_cancel(stack):
    cp_id = "E2E-RESERVE"
    expiry = timezone.now() + timedelta(minutes=30)

    async def scenario() -> tuple[int, int, int]:
        async with charger(stack.port, cp_id) as cp:
            await in_thread(_connected, cp_id)
            answer = await in_thread(
                commands.reserve_now,
                cp_id,
                connector_id=1,
                expiry_date=expiry,
                id_tag="RES-TAG",
                wait=WAIT,
            )
            assert answer == {"status": "Accepted"}
            (received,) = cp.received
            reservation_id = received.payload["reservationId"]
            started = await cp.call(
                ocpp_call.StartTransaction(
                    connector_id=1,
                    id_tag="RES-TAG",
                    meter_start=0,
                    timestamp=timezone.now().isoformat(),
                    reservation_id=reservation_id,
                )
            )
            # A second one, cancelled; the charger answers Rejected to a third cancel.
            await in_thread(
                commands.reserve_now,
                cp_id,
                connector_id=2,
                expiry_date=expiry,
                id_tag="OTHER",
                wait=WAIT,
            )
            second = cp.received[-1].payload["reservationId"]
            cancelled = await in_thread(
                commands.cancel_reservation, cp_id, reservation_id=second, wait=WAIT
            )
            assert cancelled == {"status": "Accepted"}
            return reservation_id, started.transaction_id, second

    reservation_id, transaction_id, second = asyncio.run(scenario())
    used = Reservation.objects.get(pk=reservation_id)
    assert (used.charge_point_id, used.connector_id, used.id_tag) == (cp_id, 1, "RES-TAG")
    assert used.status == "Used"
    assert used.transaction == Transaction.objects.get(pk=transaction_id)
    assert used.call.payload["reservationId"] == reservation_id
    assert abs(used.expiry_date - expiry) < timedelta(seconds=1)
    assert second != reservation_id
    assert Reservation.objects.get(pk=second).status == "Cancelled"
