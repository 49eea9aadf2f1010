"""TC_001_CSMS Cold Boot Charge Point (OCTT 1.6 §3.1.1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ocpp.v16 import call

from charging import conf
from charging.models import ChargePoint, Connector

from .harness import MODEL, NUMBER_OF_CONNECTORS, VENDOR, parse_ocpp_time


def test_tc_001_cold_boot(play, cp_id):
    async def case(cp):
        boot = await cp.boot(firmware_version="1.0.0")
        assert boot.status == "Accepted"  # step 2
        assert boot.interval == conf.get("OCPP_HEARTBEAT_INTERVAL")  # x, for step 5
        assert abs(parse_ocpp_time(boot.current_time) - datetime.now(UTC)) < timedelta(minutes=1)
        await cp.statuses("Available")  # step 3: per connector and connectorId 0
        # Step 5: a Heartbeat every `interval` seconds; the case checks one exchange.
        heartbeat = await cp.send(call.Heartbeat())
        return boot, heartbeat

    boot, heartbeat = play(case, boot=False)
    assert abs(parse_ocpp_time(heartbeat.current_time) - datetime.now(UTC)) < timedelta(minutes=1)
    point = ChargePoint.objects.get(pk=cp_id)
    assert (point.vendor, point.model, point.firmware_version) == (VENDOR, MODEL, "1.0.0")
    assert point.registration_status == "Accepted" and point.last_heartbeat_at is not None
    statuses = Connector.objects.filter(charge_point=point).values_list("connector_id", "status")
    assert sorted(statuses) == [(n, "Available") for n in range(NUMBER_OF_CONNECTORS + 1)]
