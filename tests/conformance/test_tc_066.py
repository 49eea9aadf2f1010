"""TC_066_CSMS Get Composite Schedule (OCTT 1.6 §3.19.2): the Central System requests a
composite schedule and keeps it, with what it asked for."""

from __future__ import annotations

from datetime import UTC, datetime

from charging.admin.smart_charging import composite_schedule_html
from charging.models import Connector

from .harness import CHARGING_RATE_UNIT, CONNECTOR, SCHEDULE_DURATION, ocpp_time

REQUEST = {
    "connectorId": CONNECTOR,
    "duration": SCHEDULE_DURATION,
    "chargingRateUnit": CHARGING_RATE_UNIT,
}


def hard_coded_composite_schedule() -> dict:
    start = ocpp_time(datetime.now(UTC).replace(microsecond=0))
    return {
        "status": "Accepted",
        "connectorId": CONNECTOR,
        "scheduleStart": start,
        "chargingSchedule": {
            "duration": SCHEDULE_DURATION,
            "startSchedule": start,
            "chargingRateUnit": CHARGING_RATE_UNIT,
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 6.0, "numberPhases": 3},
                {"startPeriod": 1800, "limit": 10.0, "numberPhases": 3},
            ],
        },
    }


def test_tc_066_get_composite_schedule(play, operator, cp_id):
    schedule = hard_coded_composite_schedule()

    async def case(cp):
        # Step 1: connectorId, duration and chargingRateUnit as configured (checked by the
        # charge point: it got exactly REQUEST); step 2: the hard-coded composite schedule.
        return await operator.command(cp, "GetCompositeSchedule", REQUEST, answer=schedule)

    assert play(case) == schedule
    # Expected result: the Central System has retrieved the composite schedule, and keeps it on
    # the connector with the request's parameters; the admin draws it.
    connector = Connector.objects.get(charge_point_id=cp_id, connector_id=CONNECTOR)
    assert connector.composite_schedule == schedule
    assert connector.composite_schedule_request == REQUEST
    assert connector.composite_schedule_at is not None
    chart = str(composite_schedule_html(connector))
    assert 'class="series-limit"' in chart and "from 30 min: 10 A" in chart
