"""TC_054_CSMS Trigger Message (OCTT 1.6 §3.18.1): the operator triggers MeterValues, Heartbeat,
StatusNotification, DiagnosticsStatusNotification and FirmwareStatusNotification; the charge
point sends each and the Central System answers and stores it."""

from __future__ import annotations

from ocpp.v16 import call

from charging.models import ChargePoint, Connector, MeterValue

from .harness import CONNECTOR, ocpp_time


async def trigger(cp, operator, requested, *, connector=None, status="Accepted"):
    payload = {"requestedMessage": requested}
    if connector is not None:
        payload["connectorId"] = connector
    await operator.command(cp, "TriggerMessage", payload, answer={"status": status})


def test_tc_054_trigger_message(play, operator, cp_id):
    async def case(cp):
        await trigger(cp, operator, "MeterValues", connector=CONNECTOR)  # steps 1-2
        reading = {
            "timestamp": ocpp_time(),
            "sampledValue": [{"value": "1234", "context": "Trigger", "unit": "Wh"}],
        }
        await cp.send(call.MeterValues(connector_id=CONNECTOR, meter_value=[reading]))  # step 3
        await trigger(cp, operator, "Heartbeat")  # steps 5-6
        assert (await cp.send(call.Heartbeat())).current_time  # steps 7-8
        await trigger(cp, operator, "StatusNotification", connector=CONNECTOR)  # steps 9-10
        await cp.status(CONNECTOR, "Available")  # steps 11-12
        await trigger(cp, operator, "DiagnosticsStatusNotification")  # steps 13-14
        await cp.send(call.DiagnosticsStatusNotification(status="Idle"))  # steps 15-16
        await trigger(cp, operator, "FirmwareStatusNotification")  # steps 17-18
        await cp.send(call.FirmwareStatusNotification(status="Idle"))  # steps 19-20

    play(case)
    point = ChargePoint.objects.get(pk=cp_id)
    assert (point.diagnostics_status, point.firmware_status) == ("Idle", "Idle")
    assert point.last_heartbeat_at is not None
    sample = MeterValue.objects.get(charge_point=point)
    assert (sample.connector_id, sample.value, sample.context) == (CONNECTOR, "1234", "Trigger")
    assert Connector.objects.get(charge_point=point, connector_id=CONNECTOR).status == "Available"


def test_tc_054_firmware_status_trigger_not_implemented(play, operator):
    async def case(cp):  # step 18: "Accepted OR NotImplemented"
        await trigger(cp, operator, "FirmwareStatusNotification", status="NotImplemented")

    play(case)
