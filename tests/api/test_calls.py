"""POST /api/v1/charge-points/<id>/calls/<Action>/: the call's outcome → HTTP status.

`charging.commands.send`/`wait` are replaced by a fake charger where an answer is needed (these
are tests of the HTTP layer); the rows are real. The last tests go through the real `send`.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.utils import timezone

from charging import commands, services
from charging.models import IdTag, OutboundCall
from tests.api.conftest import command_error, finish
from tests.factories import make_charge_point

pytestmark = pytest.mark.django_db

URL = "/api/v1/charge-points/CP-1/calls/{action}/"


class FakeCharger:
    """Records what was sent and decides what `wait` finds."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.waits: list[float] = []
        self.outcome: dict[str, Any] = {"status": "answered", "response": {"status": "Accepted"}}
        self.send_raises: Exception | None = None
        self.wait_raises: Exception | None = None

    def send(self, charge_point_id, action, payload, *, requested_by=""):
        self.sent.append(
            {"cp": charge_point_id, "action": action, "payload": payload, "by": requested_by}
        )
        if self.send_raises is not None:
            raise self.send_raises
        return OutboundCall.objects.create(
            charge_point_id=charge_point_id,
            unique_id=str(uuid.uuid4()),
            action=action,
            payload=payload,
            requested_by=requested_by,
        )

    def wait(self, call, timeout):
        self.waits.append(timeout)
        if self.wait_raises is not None:
            self.wait_raises.call = call
            raise self.wait_raises
        return finish(call, answered_at=timezone.now(), **self.outcome)


@pytest.fixture
def charger(monkeypatch):
    fake = FakeCharger()
    monkeypatch.setattr(commands, "send", fake.send)
    monkeypatch.setattr(commands, "wait", fake.wait)
    make_charge_point("CP-1")
    return fake


def post(api, action, payload, query=""):
    return api.post(URL.format(action=action) + query, payload, format="json")


def test_answered_is_200_with_the_response(api, charger):
    response = post(api, "Reset", {"type": "Hard"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "answered"
    assert body["response"] == {"status": "Accepted"}
    assert "error" not in body
    call = OutboundCall.objects.get()
    assert body["id"] == call.id and body["unique_id"] == call.unique_id
    assert charger.sent == [
        {"cp": "CP-1", "action": "Reset", "payload": {"type": "Hard"}, "by": "operator"}
    ]
    assert charger.waits == [30.0]  # the default wait


def test_empty_body_is_an_empty_payload(api, charger):
    response = api.post(URL.format(action="ClearCache"), content_type="application/json")
    assert response.status_code == 200
    assert charger.sent[0]["payload"] == {}


def test_wait_is_bounded(api, charger):
    assert post(api, "ClearCache", {}, "?wait=5").status_code == 200
    assert post(api, "ClearCache", {}, "?wait=120").status_code == 200
    assert charger.waits == [5.0, 120.0]


@pytest.mark.parametrize("wait", ["abc", "-1", "nan", "inf", "120.5", "100000"])
def test_bad_wait_is_400_and_sends_nothing(api, charger, wait):
    response = post(api, "ClearCache", {}, f"?wait={wait}")
    assert response.status_code == 400
    # The documented 400 body: an `error` object, like a refused payload's.
    assert response.json()["error"]["code"] == "InvalidWait"
    assert charger.sent == [] and OutboundCall.objects.count() == 0


def test_wait_zero_is_202_with_the_queued_call(api, charger):
    response = post(api, "ClearCache", {}, "?wait=0")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert response.json()["id"] == OutboundCall.objects.get().id
    assert charger.waits == []


def test_timeout_is_504(api, charger):
    charger.outcome = {"status": "timeout"}
    response = post(api, "ClearCache", {})
    assert response.status_code == 504
    assert response.json()["status"] == "timeout"
    assert response.json()["error"]["code"] == "Timeout"


def test_still_pending_when_the_wait_ends_is_504_with_the_call_to_poll(api, charger):
    charger.outcome = {"status": "sent"}
    response = post(api, "ClearCache", {}, "?wait=1")
    assert response.status_code == 504
    body = response.json()
    assert body["status"] == "sent" and body["error"]["code"] == "Pending"
    assert api.get(f"/api/v1/calls/{body['id']}/").json()["status"] == "sent"


def test_call_timeout_raised_by_wait_is_504(api, charger):
    charger.wait_raises = command_error(commands.CallTimeout, "no answer")
    response = post(api, "ClearCache", {})
    assert response.status_code == 504
    assert response.json()["id"] == OutboundCall.objects.get().id


def test_offline_when_the_connection_closed_is_409(api, charger):
    charger.outcome = {"status": "offline"}
    response = post(api, "ClearCache", {})
    assert response.status_code == 409
    assert response.json()["status"] == "offline"


def test_charge_point_offline_at_send_is_409(api, charger):
    charger.send_raises = command_error(commands.ChargePointOffline, "CP-1 is not connected")
    response = post(api, "ClearCache", {})
    assert response.status_code == 409
    assert response.json()["error"] == {"code": "Offline", "description": "CP-1 is not connected"}


def test_call_error_is_502_with_the_chargers_code(api, charger):
    charger.outcome = {
        "status": "call_error",
        "error_code": "NotSupported",
        "error_description": "no such thing here",
    }
    response = post(api, "ClearCache", {})
    assert response.status_code == 502
    body = response.json()
    assert body["status"] == "call_error"
    assert body["error"] == {"code": "NotSupported", "description": "no such thing here"}


def test_call_error_raised_by_wait_is_502(api, charger):
    charger.wait_raises = command_error(
        commands.CallError, code="InternalError", description="boom", details={"a": 1}
    )
    response = post(api, "ClearCache", {})
    assert response.status_code == 502
    assert response.json()["error"] == {
        "code": "InternalError",
        "description": "boom",
        "details": {"a": 1},
    }


def test_invalid_command_is_400_with_the_ocpp_code(api, charger):
    charger.send_raises = command_error(
        commands.InvalidCommand,
        "bad payload",
        code="PropertyConstraintViolation",
        details={"cause": "type: 'Medium' is not one of ['Hard', 'Soft']"},
    )
    response = post(api, "Reset", {"type": "Medium"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "PropertyConstraintViolation"
    assert "Medium" in error["details"]["cause"]


def test_a_body_that_is_not_an_object_is_400(api, charger):
    response = post(api, "Reset", ["Hard"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "FormationViolation"
    assert charger.sent == []


def test_a_form_body_is_refused(api, charger):
    response = api.post(URL.format(action="Reset"), {"type": "Hard"})  # multipart
    assert response.status_code == 415
    assert charger.sent == []


def test_unknown_charge_point_is_404(api, charger):
    response = api.post("/api/v1/charge-points/NOPE/calls/Reset/", {"type": "Soft"}, format="json")
    assert response.status_code == 404
    assert charger.sent == []


# --- through the real charging.commands.send ---


def test_real_send_refuses_a_payload_failing_the_schema(api):
    make_charge_point("CP-1")
    response = post(api, "Reset", {"type": "Medium"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "PropertyConstraintViolation"
    missing = post(api, "Reset", {})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "OccurenceConstraintViolation"
    assert OutboundCall.objects.count() == 0


@pytest.mark.parametrize("action", ["Frobnicate", "Heartbeat"])
def test_real_send_refuses_an_action_the_central_system_cannot_send(api, action):
    make_charge_point("CP-1")
    response = post(api, action, {})
    assert response.status_code == 400
    assert response.json()["error"]["code"]
    assert OutboundCall.objects.count() == 0


def test_real_send_to_a_disconnected_charge_point_is_409(api):
    make_charge_point("CP-1", connected=False, connection_id="")
    response = post(api, "Reset", {"type": "Soft"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "Offline"
    assert not OutboundCall.objects.exclude(status="offline").exists()


def test_local_list_sync_sends_the_list_and_reports(api, monkeypatch):
    make_charge_point("CP-1")
    services.id_tag_save(id_tag=IdTag(id_tag="TAG-A"))
    sent = []

    def fake_call(charge_point_id, action, payload, *, wait, requested_by=""):
        sent.append((action, payload, requested_by))
        return {"status": "Accepted"}

    monkeypatch.setattr(commands.local_list, "call", fake_call)
    response = api.post("/api/v1/charge-points/CP-1/local-list/", {"full": True}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["update_type"], body["entries"], body["response"]) == (
        "Full",
        1,
        {"status": "Accepted"},
    )
    assert sent[0][0] == "SendLocalList" and sent[0][1]["listVersion"] == body["version"]
    assert api.post("/api/v1/charge-points/NOPE/local-list/", {}, format="json").status_code == 404
