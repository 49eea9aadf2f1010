"""Every Core action through gateway → RabbitMQ → Celery worker (-c 2) → PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call

from charging.models import ChargePoint, Connector, Message, MeterValue, Transaction
from levity.devstack import charger, raw_charger, raw_exchange, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("e2e_db")]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_full_session_is_answered_and_stored(stack):
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # the charger's clock, not ours

    async def session():
        async with charger(stack.port, "E2E-SESSION") as cp:
            boot = await cp.call(
                call.BootNotification(
                    charge_point_vendor="Levity",
                    charge_point_model="Sim-1",
                    firmware_version="1.2.3",
                )
            )
            heartbeat = await cp.call(call.Heartbeat())
            statuses = [
                await cp.call(
                    call.StatusNotification(
                        connector_id=n, error_code="NoError", status="Available"
                    )
                )
                for n in (0, 1)
            ]
            faulted = await cp.call(
                call.StatusNotification(
                    connector_id=2, error_code="GroundFailure", status="Faulted"
                )
            )
            authorize = await cp.call(call.Authorize(id_tag="TAG-1"))
            start = await cp.call(
                call.StartTransaction(
                    connector_id=1, id_tag="TAG-1", meter_start=1000, timestamp=iso(started)
                )
            )
            meter = await cp.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=start.transaction_id,
                    meter_value=[
                        {
                            "timestamp": iso(started + timedelta(minutes=1)),
                            "sampledValue": [
                                {
                                    "value": "1500",
                                    "measurand": "Energy.Active.Import.Register",
                                    "unit": "Wh",
                                },
                                {"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"},
                            ],
                        }
                    ],
                )
            )
            stop = await cp.call(
                call.StopTransaction(
                    meter_stop=2500,
                    timestamp=iso(started + timedelta(minutes=5)),
                    transaction_id=start.transaction_id,
                )
            )
            return boot, heartbeat, statuses, faulted, authorize, start, meter, stop

    boot, heartbeat, statuses, faulted, authorize, start, meter, stop = asyncio.run(session())

    assert boot.status == "Accepted"
    assert boot.interval == 3600
    assert datetime.fromisoformat(heartbeat.current_time.replace("Z", "+00:00")).year >= 2026
    assert statuses == [statuses[0], statuses[0]] and faulted is not None
    assert authorize.id_tag_info["status"] == "Accepted"
    assert start.id_tag_info["status"] == "Accepted"
    assert isinstance(start.transaction_id, int)
    assert meter is not None and stop is not None

    point = ChargePoint.objects.get(pk="E2E-SESSION")
    assert (point.vendor, point.model, point.firmware_version) == ("Levity", "Sim-1", "1.2.3")
    assert point.last_heartbeat_at is not None
    assert Connector.objects.get(charge_point=point, connector_id=2).status == "Faulted"
    transaction = Transaction.objects.get(pk=start.transaction_id)
    assert (transaction.meter_start, transaction.meter_stop) == (1000, 2500)
    assert transaction.started_at == started  # charger time kept…
    assert (
        transaction.start_received_at.year >= 2026 and transaction.start_received_at != started
    )  # …and ours
    assert transaction.stop_reason == "Local"  # spec default when the charger sends none
    assert transaction.stopped_at == started + timedelta(minutes=5)
    samples = MeterValue.objects.filter(transaction=transaction).order_by("id")
    assert [(s.measurand, s.value, s.unit) for s in samples] == [
        ("Energy.Active.Import.Register", "1500", "Wh"),
        ("Power.Active.Import", "7.2", "kW"),
    ]
    inbound_calls = Message.objects.filter(charge_point=point, direction="in", message_type=2)
    assert inbound_calls.count() == 9
    assert Message.objects.filter(charge_point=point, direction="out", message_type=3).count() == 9


def test_auto_remote_start_fires_for_a_connector_going_preparing(stack):
    async def scenario():
        async with charger(stack.port, "E2E-AUTOSTART", subprotocol=False) as cp:
            await cp.call(
                call.BootNotification(charge_point_vendor="Grizzl-E", charge_point_model="Smart")
            )
            await cp.call(
                call.StatusNotification(connector_id=1, error_code="NoError", status="Preparing")
            )
            for _ in range(100):  # the CALL comes after OCPP_AUTO_REMOTE_START_DELAY (0.5 s here)
                if cp.remote_starts:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # let the CALLRESULT reach the worker
            return cp.remote_starts

    remote_starts = asyncio.run(scenario())
    assert [(r["id_tag"], r["connector_id"]) for r in remote_starts] == [("anonymous", 1)]
    from charging.models import OutboundCall

    outbound = wait_until(
        lambda: OutboundCall.objects.filter(
            charge_point_id="E2E-AUTOSTART", status="answered"
        ).first(),
        timeout=10,
        what="the RemoteStartTransaction answer to be recorded",
    )
    assert outbound.action == "RemoteStartTransaction"
    assert outbound.response == {"status": "Accepted"}


def test_orphaned_transaction_is_closed_by_the_next_start(stack):
    async def scenario():
        async with charger(stack.port, "E2E-ORPHAN") as cp:
            first = await cp.call(
                call.StartTransaction(
                    connector_id=1, id_tag="A", meter_start=100, timestamp="2026-01-01T10:00:00Z"
                )
            )
            await cp.call(
                call.MeterValues(
                    connector_id=1,
                    transaction_id=first.transaction_id,
                    meter_value=[
                        {
                            "timestamp": "2026-01-01T10:30:00Z",
                            "sampledValue": [{"value": "2.5", "unit": "kWh"}],
                        }
                    ],
                )
            )
            second = await cp.call(
                call.StartTransaction(
                    connector_id=1, id_tag="B", meter_start=3000, timestamp="2026-01-01T11:00:00Z"
                )
            )
            return first, second

    first, second = asyncio.run(scenario())
    assert first.transaction_id != second.transaction_id
    orphan = Transaction.objects.get(pk=first.transaction_id)
    assert orphan.stop_reason == "Other"
    assert orphan.meter_stop == 2500  # last energy register sample, kWh converted to Wh
    assert Transaction.objects.get(pk=second.transaction_id).stopped_at is None


def test_replayed_unique_id_gets_the_same_answer_without_a_second_effect(stack):
    frame = json.dumps(
        [
            2,
            "replay-1",
            "StartTransaction",
            {"connectorId": 1, "idTag": "R", "meterStart": 5, "timestamp": "2026-01-01T00:00:00Z"},
        ]
    )

    async def scenario():
        async with raw_charger(stack.port, "E2E-REPLAY") as ws:
            return [await raw_exchange(ws, frame), await raw_exchange(ws, frame)]

    first, second = asyncio.run(scenario())
    assert first == second
    assert first[0] == 3 and first[1] == "replay-1"
    assert Transaction.objects.filter(charge_point_id="E2E-REPLAY").count() == 1


def test_same_id_reconnect_newest_wins(stack):
    async def scenario():
        async with charger(stack.port, "E2E-TWICE") as old:
            await old.call(call.Heartbeat())
            async with charger(stack.port, "E2E-TWICE", path="ws") as new:
                await asyncio.wait_for(old._connection.wait_closed(), 10)
                answer = await new.call(call.Heartbeat())
                return old._connection.close_code, answer

    close_code, answer = asyncio.run(scenario())
    assert close_code is not None
    assert answer.current_time
    point = wait_until(
        lambda: ChargePoint.objects.filter(pk="E2E-TWICE", connected=False).first(),
        timeout=10,
        what="the charge point to be marked disconnected",
    )
    assert point.last_disconnect_at is not None
