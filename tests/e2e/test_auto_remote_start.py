"""The automatic RemoteStartTransaction never loops (issue 13): each skip rule, and an ATG-style
run, on the real stack with a charger that accepts RemoteStart while charging and re-sends
Preparing (harness.LoopingChargePoint)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import pytest
from ocpp.v16 import call

from charging.dashboard.selectors import recent_errors
from charging.models import Connector, OutboundCall, Transaction
from levity.devstack import charger, wait_until

from .harness import LoopingChargePoint, in_thread

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db")]


def now() -> str:
    return datetime.now(UTC).isoformat()


async def status(cp, value: str, connector_id: int = 1) -> None:
    await cp.call(
        call.StatusNotification(connector_id=connector_id, error_code="NoError", status=value)
    )


async def start(cp, id_tag: str, meter_start: int = 0) -> int:
    answer = await cp.call(
        call.StartTransaction(
            connector_id=1, id_tag=id_tag, meter_start=meter_start, timestamp=now()
        )
    )
    return answer.transaction_id


def remote_start_calls(cp_id: str) -> list[tuple[str, str]]:
    return list(
        OutboundCall.objects.filter(charge_point_id=cp_id, action="RemoteStartTransaction")
        .order_by("id")
        .values_list("status", "error_description")
    )


def wait_for_remote_start(cp_id: str, status_: str) -> list[tuple[str, str]]:
    def ended() -> list[tuple[str, str]] | None:
        calls = remote_start_calls(cp_id)
        return calls if calls and calls[-1][0] == status_ else None

    return wait_until(ended, timeout=20, what=f"{cp_id}'s RemoteStartTransaction {status_}")


def skipped(stack, cp_id: str, reason: str) -> None:
    text = f"{cp_id}: no automatic RemoteStartTransaction to connector 1: {reason}"
    stack.workers[0].wait_for_log(text, timeout=10)


def test_none_while_the_connector_has_an_open_transaction(stack):
    cp_id = "E2E-ARS-OPEN"

    async def scenario():
        async with charger(stack.port, cp_id, charge_point_class=LoopingChargePoint) as cp:
            transaction_id = await start(cp, "LOCAL-LIST-TAG")  # started without Authorize
            await status(cp, "Charging")
            await status(cp, "Preparing")  # re-plugged while charging
            return transaction_id, cp.remote_starts

    transaction_id, remote_starts = asyncio.run(scenario())
    assert remote_starts == [] and remote_start_calls(cp_id) == []
    skipped(stack, cp_id, f"transaction {transaction_id} is open on it")
    assert Transaction.objects.filter(charge_point_id=cp_id).count() == 1


def test_none_after_an_accepted_authorize(stack):
    cp_id = "E2E-ARS-AUTH"

    async def scenario():
        async with charger(stack.port, cp_id, charge_point_class=LoopingChargePoint) as cp:
            await cp.call(call.Authorize(id_tag="DRIVER"))
            await status(cp, "Preparing")
            return cp.remote_starts

    assert asyncio.run(scenario()) == [] and remote_start_calls(cp_id) == []
    skipped(stack, cp_id, "an idTag was authorized ")  # "0 s ago: its driver is starting it"


def test_one_due_after_an_accepted_authorize_is_cancelled(stack):
    cp_id = "E2E-ARS-AUTH-LATE"

    async def scenario():
        async with charger(stack.port, cp_id, charge_point_class=LoopingChargePoint) as cp:
            await status(cp, "Preparing")  # the call is decided now, due 0.5 s later
            await cp.call(call.Authorize(id_tag="DRIVER"))
            calls = await in_thread(wait_for_remote_start, cp_id, "cancelled")
            await start(cp, "DRIVER")
            await status(cp, "Charging")
            return calls, cp.remote_starts

    calls, remote_starts = asyncio.run(scenario())
    [(call_status, reason)] = calls
    assert call_status == "cancelled"
    assert re.fullmatch(r"an idTag was authorized \d s ago: its driver is starting it", reason)
    assert remote_starts == []
    assert Transaction.objects.filter(charge_point_id=cp_id).count() == 1


def test_none_while_one_is_pending_or_was_accepted(stack):
    cp_id = "E2E-ARS-COOLDOWN"

    async def scenario():
        async with charger(stack.port, cp_id, charge_point_class=LoopingChargePoint) as cp:
            await status(cp, "Preparing")
            await status(cp, "Preparing")  # within the delay: the first call is pending
            # The charger accepts, reports Preparing again and starts the session.
            await in_thread(
                wait_until, lambda: cp.remote_sessions, timeout=20, what="the remote start"
            )
            return list(cp.remote_sessions), cp.remote_starts

    remote_sessions, remote_starts = asyncio.run(scenario())
    [(call_status, _)] = remote_start_calls(cp_id)
    assert call_status == "answered" and len(remote_starts) == 1
    unique_id = OutboundCall.objects.get(charge_point_id=cp_id).unique_id
    skipped(stack, cp_id, f"RemoteStartTransaction {unique_id} is pending")
    skipped(stack, cp_id, f"RemoteStartTransaction {unique_id} was accepted")
    [transaction] = Transaction.objects.filter(charge_point_id=cp_id)
    assert [transaction.id] == remote_sessions and transaction.id_tag == "anonymous"
    assert not transaction.closed_as_orphan


def test_one_due_after_the_connector_left_preparing_is_cancelled(stack):
    cp_id = "E2E-ARS-LEFT"

    async def scenario():
        async with charger(stack.port, cp_id, charge_point_class=LoopingChargePoint) as cp:
            await status(cp, "Preparing")
            await status(cp, "Available")  # unplugged before the delay ran out
            calls = await in_thread(wait_for_remote_start, cp_id, "cancelled")
            return calls, cp.remote_starts

    calls, remote_starts = asyncio.run(scenario())
    assert calls == [("cancelled", "the connector is Available now, no longer Preparing")]
    assert remote_starts == []
    assert Connector.objects.get(charge_point_id=cp_id, connector_id=1).remote_start_status == (
        "cancelled"
    )


CHARGERS = 4
SESSIONS = 3


async def atg_station(port: int, cp_id: str) -> LoopingChargePoint:
    """An automatic transaction generator: authorize → start → meter values → stop, again and
    again, reporting Preparing around each session as real firmware does."""
    async with charger(port, cp_id, charge_point_class=LoopingChargePoint) as cp:
        await cp.call(call.BootNotification(charge_point_vendor="ATG", charge_point_model="Sim"))
        for connector_id in (0, 1):
            await status(cp, "Available", connector_id)
        for n in range(SESSIONS):
            id_tag = f"{cp_id}-{n}"[-20:]
            if n % 2:  # this driver taps the card before plugging in
                await cp.call(call.Authorize(id_tag=id_tag))
                await status(cp, "Preparing")
            else:
                await status(cp, "Preparing")
                await cp.call(call.Authorize(id_tag=id_tag))
            transaction_id = await start(cp, id_tag, meter_start=1000 * n)
            await status(cp, "Charging")
            await cp.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=transaction_id,
                    meter_value=[
                        {"timestamp": now(), "sampledValue": [{"value": str(1000 * n + 500)}]}
                    ],
                )
            )
            await status(cp, "Preparing")  # the firmware's quirk: Preparing again mid-session
            await status(cp, "Charging")
            await cp.call(
                call.StopTransaction(
                    transaction_id=transaction_id, meter_stop=1000 * n + 900, timestamp=now()
                )
            )
            await status(cp, "Finishing")
            await status(cp, "Available")
        # Every automatic RemoteStartTransaction decided for this station has ended.
        await in_thread(
            wait_until,
            lambda: (
                not OutboundCall.objects.filter(
                    charge_point_id=cp_id, status__in=("queued", "sent")
                ).exists()
            ),
            timeout=20,
            what=f"{cp_id}'s calls to end",
        )
        return cp


def test_an_atg_run_makes_exactly_one_transaction_per_session(stack):
    ids = [f"E2E-ATG-{n}" for n in range(CHARGERS)]

    async def scenario():
        return await asyncio.gather(*(atg_station(stack.port, cp_id) for cp_id in ids))

    stations = asyncio.run(scenario())
    assert [cp.remote_starts for cp in stations] == [[]] * CHARGERS
    transactions = Transaction.objects.filter(charge_point_id__in=ids)
    assert transactions.count() == CHARGERS * SESSIONS
    assert not transactions.filter(stop_received_at__isnull=True).exists()
    assert not transactions.filter(closed_as_orphan=True).exists()
    assert sorted(transactions.values_list("id_tag", flat=True)) == sorted(
        f"{cp_id}-{n}" for cp_id in ids for n in range(SESSIONS)
    )
    # Only the first session of each station asked for one, cancelled by its Authorize.
    calls = OutboundCall.objects.filter(charge_point_id__in=ids, action="RemoteStartTransaction")
    assert set(calls.values_list("status", flat=True)) <= {"cancelled"}
    assert not Connector.objects.filter(
        charge_point_id__in=ids, transaction_loop_at__isnull=False
    ).exists()


def test_a_connector_starting_too_many_transactions_a_minute_is_flagged(stack):
    cp_id = "E2E-ARS-LOOP"

    async def scenario():
        async with charger(stack.port, cp_id) as cp:
            for n in range(4):  # OCPP_TRANSACTION_LOOP_THRESHOLD is 3
                transaction_id = await start(cp, "TAG", meter_start=n)
                await cp.call(
                    call.StopTransaction(
                        transaction_id=transaction_id, meter_stop=n, timestamp=now()
                    )
                )

    asyncio.run(scenario())
    connector = Connector.objects.get(charge_point_id=cp_id, connector_id=1)
    assert connector.transaction_loop_count == 4 and connector.transaction_loop_at is not None
    stack.workers[0].wait_for_log(
        f"{cp_id}: connector 1 started 4 transactions within a minute", timeout=10
    )
    assert any(
        error["kind"] == "charge-start loop" and error["charge_point"] == cp_id
        for error in recent_errors()
    )
