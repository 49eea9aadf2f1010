"""The echo worker's answers: what the baseline answers, CALLERRORs as the 1.6 schemas say."""

from __future__ import annotations

import json

from benchmarks.load.echo import answer
from tests.factories import call, event


def test_a_call_gets_the_baselines_answer():
    boot = {"chargePointVendor": "V", "chargePointModel": "M"}
    assert json.loads(answer(call("1", "BootNotification", boot)))[2]["status"] == "Accepted"
    started = json.loads(answer(call("2", "StartTransaction", {**_start()})))
    assert started[:2] == [3, "2"] and started[2]["transactionId"] > 0


def test_a_call_its_schema_refuses_gets_a_callerror():
    refused = json.loads(answer(call("3", "Heartbeat", {"extra": 1})))
    assert refused[:3] == [4, "3", "FormationViolation"]


def test_other_events_get_no_frame():
    assert answer(event("connect")) is None
    assert answer(event("frame", text=json.dumps([3, "9", {}]))) is None


def _start() -> dict:
    return {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "2026-12-01T00:00:00Z"}
