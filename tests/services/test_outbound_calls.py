"""Services of outbound calls: creation, completion, what their flows do when they end."""

from __future__ import annotations

import pytest

from charging import services
from charging.models import Connector, OutboundCall
from charging.services.outbound_actions import ActionSpec, action_register
from tests.factories import make_charge_point

pytestmark = pytest.mark.django_db

CALLS: list[tuple[str, str]] = []


def record_callback(*, call: OutboundCall) -> None:
    CALLS.append((call.unique_id, call.status))


def failing_callback(*, call: OutboundCall) -> None:
    Connector.objects.create(charge_point=call.charge_point, connector_id=9)
    raise RuntimeError("boom")


action_register(ActionSpec("TestRecordEnd", sends="ClearCache", on_end=record_callback))
action_register(ActionSpec("TestFailingEnd", sends="ClearCache", on_end=failing_callback))


def test_create_uses_a_uuid_the_current_connection_and_the_default_timeout(settings):
    settings.OCPP_CALL_TIMEOUT = 12.5
    point = make_charge_point(connection_id="c9")
    call = services.outbound_call_create(
        charge_point=point, action="Reset", payload={"type": "Soft"}, requested_by="admin"
    )
    assert len(call.unique_id) == 36 and call.status == "queued"
    assert (call.connection_id, call.timeout, call.requested_by) == ("c9", 12.5, "admin")


def test_complete_stores_the_answer_and_runs_the_flows_end_once():
    CALLS.clear()
    point = make_charge_point()
    call = services.outbound_call_create(
        charge_point=point,
        action="ClearCache",
        payload={},
        flow="TestRecordEnd",
    )
    services.outbound_call_complete(call=call, status="answered", response={"status": "Accepted"})
    services.outbound_call_complete(call=call, status="timeout")  # too late: first outcome stands
    call.refresh_from_db()
    assert call.status == "answered" and call.response == {"status": "Accepted"}
    assert call.answered_at is not None
    assert [(call.unique_id, "answered")] == CALLS


def test_a_failing_end_is_rolled_back_and_the_outcome_kept():
    point = make_charge_point()
    call = services.outbound_call_create(
        charge_point=point, action="ClearCache", payload={}, flow="TestFailingEnd"
    )
    services.outbound_call_complete(call=call, status="call_error", error_code="InternalError")
    call.refresh_from_db()
    assert (call.status, call.error_code) == ("call_error", "InternalError")
    assert not Connector.objects.filter(connector_id=9).exists()


def test_an_unknown_flow_is_logged_not_raised(caplog):
    point = make_charge_point()
    call = services.outbound_call_create(
        charge_point=point, action="ClearCache", payload={}, flow="NoSuchFlow"
    )
    services.outbound_call_complete(call=call, status="timeout")
    assert OutboundCall.objects.get(pk=call.pk).status == "timeout"
    assert "NoSuchFlow" in caplog.text


def test_complete_refuses_a_non_final_status():
    point = make_charge_point()
    call = services.outbound_call_create(charge_point=point, action="ClearCache", payload={})
    with pytest.raises(ValueError):
        services.outbound_call_complete(call=call, status="sent")
