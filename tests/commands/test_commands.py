"""charging.commands: validation, recording, enqueueing after commit, waiting, outcomes."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import close_old_connections, connection
from django_celery_results.models import TaskResult

import celery_app
from charging import admission, commands, coordination, outcomes, services
from charging.models import OutboundCall
from charging.protocol import envelope
from tasks import transport
from tests.factories import make_charge_point


@pytest.fixture
def sent_tasks(monkeypatch):
    """Celery messages the commands would publish, instead of publishing them."""
    sent: list[dict] = []

    def send_task(name, args=None, kwargs=None, **options):
        sent.append({"name": name, "args": args, **options})

    monkeypatch.setattr(celery_app.app, "send_task", send_task)
    return sent


@pytest.fixture
def local_gateway():
    """A local publisher standing in for the gateway; `routed` says whether it holds the cp."""
    requests: list[envelope.CallRequest] = []
    state = {"routed": True}

    def publish(request: envelope.CallRequest) -> bool:
        requests.append(request)
        return state["routed"]

    transport.set_local_publisher(publish)
    yield requests, state
    transport.set_local_publisher(None)


@pytest.fixture
def eager():
    celery_app.app.conf.task_always_eager = True
    yield
    celery_app.app.conf.task_always_eager = False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        ("Reset", {"type": "Sideways"}, "PropertyConstraintViolation"),
        ("Reset", {}, "OccurenceConstraintViolation"),
        (
            "ChangeAvailability",
            {"connectorId": "1", "type": "Operative"},
            "TypeConstraintViolation",
        ),
        ("ClearCache", {"extra": 1}, "FormationViolation"),
        ("Heartbeat", {}, "NotSupported"),  # a charge point's action
        ("Explode", {}, "NotImplemented"),
    ],
)
def test_an_invalid_command_is_refused_and_nothing_recorded_or_sent(
    action, payload, code, sent_tasks, django_capture_on_commit_callbacks
):
    make_charge_point("CP-1")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(commands.InvalidCommand) as refused,
    ):
        commands.send("CP-1", action, payload)
    assert refused.value.code == code
    assert refused.value.details.get("cause")
    assert not OutboundCall.objects.exists()
    assert sent_tasks == []


@pytest.mark.django_db
def test_send_records_a_queued_call_and_enqueues_the_task_after_commit(
    sent_tasks, django_capture_on_commit_callbacks
):
    make_charge_point("CP-1", connection_id="c1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call = commands.send("CP-1", "Reset", {"type": "Hard"}, requested_by="alice")
    assert sent_tasks == []  # nothing before the commit
    assert (call.status, call.action, call.payload) == ("queued", "Reset", {"type": "Hard"})
    assert (call.requested_by, call.connection_id) == ("alice", "c1") and call.task_id
    for callback in callbacks:
        callback()
    assert len(sent_tasks) == 1
    task = sent_tasks[0]
    assert task["name"] == envelope.SEND_CALL_TASK == "levity.send_call"
    assert list(task["args"]) == [call.pk]
    assert task["task_id"] == call.task_id
    assert task["routing_key"] == "cp.CP-1"


@pytest.mark.django_db
def test_unknown_and_disconnected_charge_points_are_offline_at_once(sent_tasks):
    with pytest.raises(commands.ChargePointOffline) as unknown:
        commands.send("NOBODY", "ClearCache", {})
    assert unknown.value.call is None
    make_charge_point("CP-OFF", connected=False)
    with pytest.raises(commands.ChargePointOffline) as offline:
        commands.call("CP-OFF", "ClearCache", {})
    assert offline.value.call.status == "offline" and offline.value.call.answered_at
    assert sent_tasks == []


@pytest.mark.django_db
def test_action_may_be_given_as_an_enum():
    from charging.protocol import Action

    make_charge_point("CP-1")
    call = commands.send("CP-1", Action.ClearCache, {})
    assert isinstance(call, OutboundCall) and call.action == "ClearCache"


@pytest.mark.django_db
def test_a_request_is_an_ocpp_dataclass_and_call_always_waits():
    from ocpp.v16 import call as ocpp_call
    from ocpp.v16.enums import ResetType

    make_charge_point("CP-1")
    reset = commands.send("CP-1", ocpp_call.Reset(type=ResetType.hard), requested_by="t")
    assert (reset.action, reset.payload, reset.status) == ("Reset", {"type": "Hard"}, "queued")
    profile = commands.send(
        "CP-1",
        ocpp_call.GetCompositeSchedule(connector_id=1, duration=60),
    )
    assert profile.payload == {"connectorId": 1, "duration": 60}
    with pytest.raises(commands.InvalidCommand):
        commands.send("CP-1", ocpp_call.Reset(type="Sideways"))
    with pytest.raises(ValueError, match="send"):
        commands.call("CP-1", ocpp_call.ClearCache(), wait=0)


@pytest.mark.django_db(transaction=True)
def test_the_send_task_hands_the_call_request_over_and_keeps_its_outcome(eager, local_gateway):
    requests, _ = local_gateway
    make_charge_point("CP-1", connection_id="c1")
    call = commands.send("CP-1", "Reset", {"type": "Soft"})  # autocommit: enqueued (eager) now
    call.refresh_from_db()
    assert call.status == "sent" and call.sent_at and call.message.raw
    (request,) = requests
    assert request["type"] == "call" and request["cp"] == "CP-1"
    assert request["call"]["unique_id"] == call.unique_id
    assert request["call"]["text"] == f'[2,"{call.unique_id}","Reset",{{"type":"Soft"}}]'
    assert (request["call"]["delay"], request["call"]["timeout"]) == (0.0, call.timeout)
    stored = TaskResult.objects.get(task_id=call.task_id)
    assert stored.task_name == "levity.send_call" and '"status": "sent"' in stored.result

    services.outbound_call_complete(call=call, status="answered", response={"status": "Accepted"})
    stored.refresh_from_db()
    assert '"status": "answered"' in stored.result and '"Accepted"' in stored.result
    assert stored.status == "SUCCESS"
    # A redelivered task sends nothing again.
    from tasks.calls import send_call

    assert send_call(call.pk) == {"status": "skipped"} and len(requests) == 1


@pytest.mark.django_db(transaction=True)
def test_an_unroutable_call_ends_offline(eager, local_gateway):
    _, state = local_gateway
    state["routed"] = False
    make_charge_point("CP-1")
    with pytest.raises(commands.ChargePointOffline) as offline:
        commands.call("CP-1", "ClearCache", {}, wait=1)
    assert offline.value.call.status == "offline"
    assert (
        '"status": "offline"' in TaskResult.objects.get(task_id=offline.value.call.task_id).result
    )


def _complete_later(call_id: int, delay: float, **outcome) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        try:
            services.outbound_call_complete(call=OutboundCall.objects.get(pk=call_id), **outcome)
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("redis_url", ["redis://127.0.0.1:6379/3", ""])
def test_wait_returns_when_the_answer_comes(redis_url, settings, sent_tasks, monkeypatch):
    settings.REDIS_URL = redis_url
    blpops: list[str] = []
    real = outcomes.wait_for_wake
    monkeypatch.setattr(
        outcomes, "wait_for_wake", lambda uid, t: blpops.append(uid) or real(uid, t)
    )
    make_charge_point("CP-1")
    call = commands.send("CP-1", "ClearCache", {})
    thread = _complete_later(call.pk, 0.3, status="answered", response={"status": "Accepted"})
    began = time.monotonic()
    ended = commands.wait(call, 10)
    elapsed = time.monotonic() - began
    thread.join()
    assert ended.status == "answered" and ended.response == {"status": "Accepted"}
    assert 0.25 < elapsed < 1.2  # Redis wakes at once; the DB poll backs off to 0.5 s at most
    if redis_url:
        assert blpops and len(blpops) <= 2  # woken, not sliced polling
        # The wake-up stays for anybody else waiting on the same call.
        assert outcomes.wait_for_wake(call.unique_id, 0.1) is True
    else:
        assert all(outcomes.wait_for_wake(uid, 0) is None for uid in blpops[:1])


@pytest.mark.django_db
def test_wait_is_bounded_and_a_broken_redis_falls_back(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    make_charge_point("CP-1")
    call = services.outbound_call_create(
        charge_point=make_charge_point("CP-2"), action="ClearCache", payload={}
    )
    began = time.monotonic()
    assert commands.wait(call, 0.4).status == "queued"
    assert time.monotonic() - began < 1.5
    coordination._down_until = 0.0  # don't leave Redis marked down for other tests


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("outcome", "error"),
    [
        (
            {"status": "call_error", "error_code": "NotSupported", "error_description": "no"},
            commands.CallError,
        ),
        ({"status": "timeout"}, commands.CallTimeout),
        ({"status": "offline"}, commands.ChargePointOffline),
    ],
)
def test_call_raises_for_every_outcome_but_an_answer(outcome, error, monkeypatch):
    make_charge_point("CP-1")

    def ended(call, timeout):
        services.outbound_call_complete(call=call, **outcome)
        return call

    monkeypatch.setattr(commands.core, "_wait", ended)
    with pytest.raises(error) as raised:
        commands.call("CP-1", "ClearCache", {})
    assert raised.value.call.status == outcome["status"]
    if error is commands.CallError:
        assert (raised.value.code, raised.value.description) == ("NotSupported", "no")


@pytest.mark.django_db
@pytest.mark.parametrize("reconnected_with", ["the new key", "the old key"])
def test_a_key_change_ended_offline_by_the_charger_reconnecting(monkeypatch, reconnected_with):
    # The charger answered Accepted and reconnected with the new key at once: that connection
    # ended the call offline before its answer was processed (OCTT TC_073 step 3).
    new_key = "fedcba9876543210fedc"
    point = admission.authorization_key_set(
        charge_point=make_charge_point("CP-1"), key="0123456789abcdef0123"
    )

    def reconnected(call, timeout):
        services.outbound_call_start_send(call_id=call.pk)
        password = new_key if reconnected_with == "the new key" else "0123456789abcdef0123"
        assert admission.handshake_admit(
            charge_point_id="CP-1", username="CP-1", password=password
        ).accept
        call.refresh_from_db()  # as `wait` does
        return services.outbound_call_complete(call=call, status="offline")

    monkeypatch.setattr(commands.core, "_wait", reconnected)
    if reconnected_with == "the new key":
        assert commands.change_authorization_key("CP-1", key=new_key) == new_key
    else:
        with pytest.raises(commands.ChargePointOffline):
            commands.change_authorization_key("CP-1", key=new_key)
    point.refresh_from_db()
    assert admission.authorization_key_check(charge_point=point, password=new_key) is (
        reconnected_with == "the new key"
    )


@pytest.mark.django_db
def test_call_returns_the_answer_and_a_pending_call_after_the_wait_is_a_timeout(monkeypatch):
    make_charge_point("CP-1")
    monkeypatch.setattr(
        commands.core,
        "_wait",
        lambda call, timeout: services.outbound_call_complete(
            call=call, status="answered", response={"status": "Accepted"}
        ),
    )
    assert commands.reset("CP-1", type="Hard") == {"status": "Accepted"}
    monkeypatch.setattr(commands.core, "_wait", lambda call, timeout: call)
    with pytest.raises(commands.CallTimeout) as pending:
        commands.clear_cache("CP-1", wait=0.1)
    assert pending.value.call.status == "queued"


@pytest.mark.django_db
def test_wait_expires_a_stale_call(settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.OCPP_CALL_GRACE = 1
    call = services.outbound_call_create(
        charge_point=make_charge_point("CP-1"), action="ClearCache", payload={}, timeout=2
    )
    OutboundCall.objects.filter(pk=call.pk).update(
        status="sent", created_at=timezone.now() - timedelta(seconds=5)
    )
    ended = commands.wait(call, 0.05)
    assert ended.status == "timeout" and "given up" in ended.error_description


def _sent_by(monkeypatch, helper, **kwargs):
    """The call a helper sent, its wait over at once (it goes through `call`)."""
    monkeypatch.setattr(commands.core, "_wait", lambda call, timeout: call)
    with pytest.raises(commands.CallTimeout) as pending:
        getattr(commands, helper)("CP-1", requested_by="t", **kwargs)
    return pending.value.call


HELPERS = [
    (
        "remote_start",
        {"id_tag": "T1", "connector_id": 1},
        "RemoteStartTransaction",
        {"idTag": "T1", "connectorId": 1},
    ),
    ("remote_stop", {"transaction_id": 7}, "RemoteStopTransaction", {"transactionId": 7}),
    ("reset", {}, "Reset", {"type": "Soft"}),
    (
        "change_availability",
        {"connector_id": 0, "type": "Inoperative"},
        "ChangeAvailability",
        {"connectorId": 0, "type": "Inoperative"},
    ),
    (
        "change_configuration",
        {"key": "K", "value": "V"},
        "ChangeConfiguration",
        {"key": "K", "value": "V"},
    ),
    ("get_configuration", {"key": ["A"]}, "GetConfiguration", {"key": ["A"]}),
    ("get_configuration", {}, "GetConfiguration", {}),
    ("clear_cache", {}, "ClearCache", {}),
    ("unlock_connector", {"connector_id": 2}, "UnlockConnector", {"connectorId": 2}),
    (
        "data_transfer",
        {"vendor_id": "V", "data": "d"},
        "DataTransfer",
        {"vendorId": "V", "data": "d"},
    ),
    (
        "trigger_message",
        {"requested_message": "Heartbeat"},
        "TriggerMessage",
        {"requestedMessage": "Heartbeat"},
    ),
    (
        "update_firmware",
        {"location": "ftp://x/", "retrieve_date": "2026-01-01T00:00:00Z", "retries": 2},
        "UpdateFirmware",
        {"location": "ftp://x/", "retrieveDate": "2026-01-01T00:00:00Z", "retries": 2},
    ),
    ("get_diagnostics", {"location": "ftp://x/"}, "GetDiagnostics", {"location": "ftp://x/"}),
    (
        "send_local_list",
        {"list_version": 3, "update_type": "Full"},
        "SendLocalList",
        {"listVersion": 3, "updateType": "Full"},
    ),
    ("get_local_list_version", {}, "GetLocalListVersion", {}),
    (
        "reserve_now",
        {
            "connector_id": 1,
            "expiry_date": "2026-01-01T00:00:00Z",
            "id_tag": "T",
            "reservation_id": 5,
        },
        "ReserveNow",
        {"connectorId": 1, "expiryDate": "2026-01-01T00:00:00Z", "idTag": "T", "reservationId": 5},
    ),
    ("cancel_reservation", {"reservation_id": 5}, "CancelReservation", {"reservationId": 5}),
    (
        "set_charging_profile",
        {
            "connector_id": 1,
            "cs_charging_profiles": {
                "chargingProfileId": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                },
            },
        },
        "SetChargingProfile",
        None,
    ),
    ("clear_charging_profile", {"connector_id": 1}, "ClearChargingProfile", {"connectorId": 1}),
    (
        "get_composite_schedule",
        {"connector_id": 1, "duration": 60},
        "GetCompositeSchedule",
        {"connectorId": 1, "duration": 60},
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("helper", "kwargs", "action", "payload"), HELPERS)
def test_every_helper_builds_its_payload(monkeypatch, helper, kwargs, action, payload):
    make_charge_point("CP-1")
    call = _sent_by(monkeypatch, helper, **kwargs)
    assert call.action == action and call.status == "queued"
    if payload is not None:
        assert call.payload == payload


@pytest.mark.django_db
def test_helpers_format_datetimes_as_ocpp_time(monkeypatch):
    from datetime import UTC, datetime

    make_charge_point("CP-1")
    call = _sent_by(
        monkeypatch,
        "reserve_now",
        connector_id=1,
        expiry_date=datetime(2026, 5, 1, 12, tzinfo=UTC),
        id_tag="T",
        reservation_id=1,
    )
    assert call.payload["expiryDate"] == "2026-05-01T12:00:00.000Z"


def test_every_central_system_action_has_a_helper():
    names = {action for _, _, action, _ in HELPERS}
    core_and_profiles = commands.CENTRAL_SYSTEM_ACTIONS - {
        "CertificateSigned",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetInstalledCertificateIds",
        "GetLog",
        "InstallCertificate",
        "SignedUpdateFirmware",
    }
    assert core_and_profiles == names
