"""Admin actions send commands to charge points and show the charger's answer (or why none).

`charging.commands.call` is replaced by a fake charger (these test the admin layer); the rows
and the admin's forms, templates and messages are real.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from charging import commands, services
from charging.models import ChargePoint, IdTag, OutboundCall, Reservation
from tests.api.conftest import command_error
from tests.factories import make_charge_point, make_transaction

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:charging_chargepoint_changelist")


class FakeCharger:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.answer: dict[str, Any] | Exception = {"status": "Accepted"}

    def call(self, charge_point_id, action, payload, *, wait=30, requested_by=""):
        self.calls.append(
            {
                "cp": charge_point_id,
                "action": action,
                "payload": payload,
                "wait": wait,
                "by": requested_by,
            }
        )
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def charger(monkeypatch):
    fake = FakeCharger()
    monkeypatch.setattr(commands, "call", fake.call)
    monkeypatch.setattr(commands.local_list, "call", fake.call)  # sync_local_list
    return fake


def run(client, action, *ids, url=CHANGELIST, **fields):
    """Post an admin action as the changelist (or, with apply=yes, its intermediate form) does."""
    data = {"action": action, "_selected_action": list(ids), **fields}
    if "apply" not in fields:
        data["index"] = 0
    return client.post(url, data, follow=True)


def texts(response):
    return [str(message) for message in response.context["messages"]]


def test_clear_cache_sends_once_confirmed_and_shows_the_answer(admin_client, charger):
    make_charge_point("CP-1")
    response = run(admin_client, "clear_cache", "CP-1", apply="yes")
    assert response.status_code == 200
    assert charger.calls == [
        {"cp": "CP-1", "action": "ClearCache", "payload": {}, "wait": 15.0, "by": "admin"}
    ]
    assert texts(response) == ['CP-1: ClearCache → {"status": "Accepted"}']


def test_reset_soft_and_hard(admin_client, charger):
    make_charge_point("CP-1")
    make_charge_point("CP-2")
    run(admin_client, "reset_hard", "CP-2", "CP-1", apply="yes")
    run(admin_client, "reset_soft", "CP-1", apply="yes")
    assert [(c["cp"], c["payload"]) for c in charger.calls] == [
        ("CP-1", {"type": "Hard"}),
        ("CP-2", {"type": "Hard"}),
        ("CP-1", {"type": "Soft"}),
    ]


@pytest.mark.parametrize(
    ("admin_action", "title"),
    [
        ("reset_soft", "Reset (soft)"),
        ("reset_hard", "Reset (hard)"),
        ("clear_cache", "Clear cache"),
        ("unlock_connector", "Unlock connector…"),
        ("change_availability", "Change availability…"),
        ("update_firmware", "Update firmware…"),
    ],
)
def test_disruptive_commands_ask_first_showing_the_active_transaction(
    admin_client, charger, admin_action, title
):
    point = make_charge_point("CP-1")
    make_charge_point("CP-2")
    session = make_transaction(point, connector_id=2, id_tag="TAG-7")
    page = run(admin_client, admin_action, "CP-1", "CP-2")
    assert page.status_code == 200 and charger.calls == []
    html = page.content.decode()
    assert f"<strong>{title}</strong>" in html
    rows = html.split('id="command-targets"')[1].split("</table>")[0]
    assert f"#{session.id}</a> on connector 2 (TAG-7, since " in rows
    assert rows.count("<tr>") == 3 and ">none<" in rows  # header, CP-1, CP-2 without one
    assert 'id="command-interrupts"' in html
    assert 'name="apply" value="yes"' in html


def test_a_harmless_command_page_warns_of_no_interruption(admin_client, charger):
    point = make_charge_point("CP-1")
    make_transaction(point)
    html = run(admin_client, "trigger_message", "CP-1").content.decode()
    assert 'id="command-targets"' in html and 'id="command-interrupts"' not in html


def test_remote_start_asks_for_id_tag_and_connector_then_sends(admin_client, charger):
    make_charge_point("CP-1")
    form = run(admin_client, "remote_start", "CP-1")
    assert form.status_code == 200
    assert charger.calls == []  # nothing sent before the form is filled in
    html = form.content.decode()
    assert "RemoteStartTransaction" in html and 'name="id_tag"' in html
    assert 'name="connector_id"' in html and 'value="CP-1"' in html

    done = run(admin_client, "remote_start", "CP-1", apply="yes", id_tag="TAG-9", connector_id=2)
    assert charger.calls[0]["payload"] == {"idTag": "TAG-9", "connectorId": 2}
    assert charger.calls[0]["action"] == "RemoteStartTransaction"
    assert done.redirect_chain and texts(done) == [
        'CP-1: RemoteStartTransaction → {"status": "Accepted"}'
    ]


def test_remote_start_without_connector_leaves_it_out(admin_client, charger):
    make_charge_point("CP-1")
    run(admin_client, "remote_start", "CP-1", apply="yes", id_tag="TAG-9", connector_id="")
    assert charger.calls[0]["payload"] == {"idTag": "TAG-9"}


def test_an_invalid_form_is_shown_again_and_sends_nothing(admin_client, charger):
    make_charge_point("CP-1")
    response = run(admin_client, "remote_start", "CP-1", apply="yes", id_tag="", connector_id=0)
    assert response.status_code == 200
    assert charger.calls == []
    errors = response.context["form"].errors
    assert set(errors) == {"id_tag", "connector_id"}


@pytest.mark.parametrize(
    ("action", "fields", "ocpp_action", "payload"),
    [
        (
            "change_availability",
            {"connector_id": 0, "availability": "Inoperative"},
            "ChangeAvailability",
            {"connectorId": 0, "type": "Inoperative"},
        ),
        ("unlock_connector", {"connector_id": 2}, "UnlockConnector", {"connectorId": 2}),
        (
            "trigger_message",
            {"requested_message": "StatusNotification", "connector_id": 1},
            "TriggerMessage",
            {"requestedMessage": "StatusNotification", "connectorId": 1},
        ),
        (
            "trigger_message",
            {"requested_message": "Heartbeat", "connector_id": ""},
            "TriggerMessage",
            {"requestedMessage": "Heartbeat"},
        ),
        ("get_configuration", {"keys": ""}, "GetConfiguration", {}),
        (
            "get_configuration",
            {"keys": "HeartbeatInterval, MeterValueSampleInterval\nNumberOfConnectors"},
            "GetConfiguration",
            {"key": ["HeartbeatInterval", "MeterValueSampleInterval", "NumberOfConnectors"]},
        ),
        (
            "change_configuration",
            {"key": "HeartbeatInterval", "value": "300"},
            "ChangeConfiguration",
            {"key": "HeartbeatInterval", "value": "300"},
        ),
    ],
)
def test_parameterised_actions_build_the_spec_payload(
    admin_client, charger, action, fields, ocpp_action, payload
):
    make_charge_point("CP-1")
    assert run(admin_client, action, "CP-1").status_code == 200  # the form
    assert charger.calls == []
    run(admin_client, action, "CP-1", apply="yes", **fields)
    assert [(c["action"], c["payload"]) for c in charger.calls] == [(ocpp_action, payload)]


def test_a_rejected_answer_is_a_warning(admin_client, charger):
    make_charge_point("CP-1")
    charger.answer = {"status": "Rejected"}
    response = run(admin_client, "unlock_connector", "CP-1", apply="yes", connector_id=1)
    [message] = list(response.context["messages"])
    assert message.level_tag == "warning"
    assert str(message) == 'CP-1: UnlockConnector → {"status": "Rejected"}'


def test_get_configuration_answer_is_shown(admin_client, charger):
    make_charge_point("CP-1")
    charger.answer = {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "3600"}]
    }
    response = run(admin_client, "get_configuration", "CP-1", apply="yes", keys="")
    [message] = list(response.context["messages"])
    assert message.level_tag == "success"
    assert '"HeartbeatInterval"' in str(message) and '"3600"' in str(message)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            lambda: command_error(
                commands.CallError, "x", code="NotSupported", description="not here"
            ),
            "CP-1: ClearCache: the charge point answered CALLERROR NotSupported: not here",
        ),
        (
            lambda: command_error(commands.CallTimeout, "late"),
            "CP-1: ClearCache: no answer within 15 s (a later answer shows in Outbound calls)",
        ),
        (
            lambda: command_error(commands.ChargePointOffline, "gone"),
            "CP-1: ClearCache failed: not connected",
        ),
        (
            lambda: command_error(
                commands.InvalidCommand, "bad", code="FormationViolation", details={"cause": "x"}
            ),
            "CP-1: ClearCache not sent, invalid: FormationViolation {'cause': 'x'}",
        ),
    ],
)
def test_errors_are_shown(admin_client, charger, error, expected):
    make_charge_point("CP-1")
    charger.answer = error()
    response = run(admin_client, "clear_cache", "CP-1", apply="yes")
    [message] = list(response.context["messages"])
    assert message.level_tag == "error"
    assert str(message) == expected


def test_real_call_to_a_disconnected_charge_point_says_so(admin_client):
    make_charge_point("CP-1", connected=False, connection_id="")
    response = run(admin_client, "reset_soft", "CP-1", apply="yes")
    assert texts(response) == ["CP-1: Reset failed: not connected"]


def test_remote_stop_on_transactions(admin_client, charger):
    point = make_charge_point("CP-1")
    open_one = make_transaction(point)
    stopped = make_transaction(point, meter_stop=2000, stop_received_at=timezone.now())
    response = run(
        admin_client,
        "remote_stop",
        open_one.id,
        stopped.id,
        url=reverse("admin:charging_transaction_changelist"),
    )
    assert [(c["cp"], c["action"], c["payload"]) for c in charger.calls] == [
        ("CP-1", "RemoteStopTransaction", {"transactionId": open_one.id})
    ]
    assert texts(response) == [
        'CP-1: RemoteStopTransaction → {"status": "Accepted"}',
        f"Transaction {stopped.id} is already stopped",
    ]


def test_commands_need_the_change_permission(client, charger):
    make_charge_point("CP-1")
    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_chargepoint"))
    client.force_login(viewer)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert b"clear_cache" not in page.content
    run(client, "clear_cache", "CP-1", apply="yes")
    assert charger.calls == []

    viewer.user_permissions.add(Permission.objects.get(codename="change_chargepoint"))
    assert b"clear_cache" in client.get(CHANGELIST).content
    run(client, "clear_cache", "CP-1", apply="yes")
    assert len(charger.calls) == 1 and charger.calls[0]["by"] == "viewer"


def test_outbound_calls_page_lists_filters_and_shows_a_call(admin_client):
    one, two = make_charge_point("CP-1"), make_charge_point("CP-2")
    answered = OutboundCall.objects.create(
        charge_point=one,
        unique_id=str(uuid.uuid4()),
        action="GetConfiguration",
        payload={"key": ["HeartbeatInterval"]},
        status="answered",
        response={"configurationKey": []},
        requested_by="alice",
    )
    failed = OutboundCall.objects.create(
        charge_point=two,
        unique_id=str(uuid.uuid4()),
        action="Reset",
        payload={"type": "Hard"},
        status="call_error",
        error_code="NotSupported",
    )
    url = reverse("admin:charging_outboundcall_changelist")

    def listed(query):
        response = admin_client.get(url + query)
        assert response.status_code == 200
        return {call.pk for call in response.context["cl"].result_list}

    assert listed("") == {answered.pk, failed.pk}
    assert listed("?status__exact=call_error") == {failed.pk}
    assert listed("?action__exact=GetConfiguration") == {answered.pk}
    assert listed("?charge_point__id__exact=CP-2") == {failed.pk}

    detail = admin_client.get(reverse("admin:charging_outboundcall_change", args=[answered.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "HeartbeatInterval" in html and "configurationKey" in html and "alice" in html
    assert 'name="_save"' not in html  # read-only


def test_reserve_now_sends_a_reservation_valid_for_the_minutes_asked(admin_client, charger):
    make_charge_point("CP-1")
    before = timezone.now()
    run(
        admin_client,
        "reserve_now",
        "CP-1",
        apply="yes",
        connector_id=1,
        id_tag="TAG-R",
        minutes=30,
        parent_id_tag="",
    )
    (sent,) = charger.calls
    assert sent["action"] == "ReserveNow" and "reservationId" not in sent["payload"]
    assert (sent["payload"]["connectorId"], sent["payload"]["idTag"]) == (1, "TAG-R")
    expiry = datetime.fromisoformat(sent["payload"]["expiryDate"].replace("Z", "+00:00"))
    assert timedelta(minutes=29) < expiry - before < timedelta(minutes=31)


def test_reservations_are_listed_and_an_active_one_can_be_cancelled(admin_client, charger):
    cp = make_charge_point("CP-1")
    active = Reservation.objects.create(
        charge_point=cp,
        connector_id=1,
        id_tag="TAG-R",
        expiry_date=timezone.now(),
        status="Accepted",
    )
    used = Reservation.objects.create(
        charge_point=cp, connector_id=2, id_tag="TAG-U", expiry_date=timezone.now(), status="Used"
    )
    reservations = reverse("admin:charging_reservation_changelist")
    html = admin_client.get(reservations).content.decode()
    assert "TAG-R" in html and "TAG-U" in html
    page = admin_client.get(reverse("admin:charging_reservation_change", args=[active.pk]))
    assert page.status_code == 200 and "TAG-R" in page.content.decode()
    done = run(admin_client, "cancel_reservation", active.pk, used.pk, url=reservations)
    assert [c["payload"] for c in charger.calls] == [{"reservationId": active.pk}]
    assert f"Reservation {used.pk} is Used" in texts(done)


def test_sync_local_list_reports_what_was_sent_and_the_answer(admin_client, charger):
    make_charge_point("CP-1", local_list_version=None)
    make_charge_point("CP-2")
    services.id_tag_save(id_tag=IdTag(id_tag="TAG-L"))
    done = run(admin_client, "sync_local_list", "CP-1")
    (sent,) = charger.calls
    assert (sent["action"], sent["payload"]["updateType"]) == ("SendLocalList", "Full")
    assert [e["idTag"] for e in sent["payload"]["localAuthorizationList"]] == ["TAG-L"]
    version = sent["payload"]["listVersion"]
    assert texts(done) == [f"CP-1: Full local list version {version} (1 entries) → Accepted"]
    # A charger that already has this version gets nothing.
    ChargePoint.objects.filter(pk="CP-2").update(local_list_version=version)
    done = run(admin_client, "sync_local_list", "CP-2")
    assert len(charger.calls) == 1
    assert texts(done) == [f"CP-2: local list up to date (version {version})"]


def test_update_firmware_is_a_campaign_over_the_selected_charge_points(admin_client, charger):
    make_charge_point("CP-1")
    make_charge_point("CP-2")
    run(
        admin_client,
        "update_firmware",
        "CP-1",
        "CP-2",
        apply="yes",
        location="https://example.com/fw.bin",
        retrieve_in_minutes=0,
        retries="",
    )
    assert [(c["cp"], c["action"]) for c in charger.calls] == [
        ("CP-1", "UpdateFirmware"),
        ("CP-2", "UpdateFirmware"),
    ]
    assert charger.calls[0]["payload"]["location"] == "https://example.com/fw.bin"


def test_jobs_are_listed_with_their_history(admin_client):
    cp = make_charge_point("CP-1")
    job = services.job_create(
        charge_point=cp, action="UpdateFirmware", payload={"location": "https://x/fw.bin"}
    )
    services.job_status_notified(
        charge_point=cp, action="FirmwareStatusNotification", status="Downloading"
    )
    html = admin_client.get(reverse("admin:charging_chargerjob_changelist")).content.decode()
    assert "https://x/fw.bin" in html and "Downloading" in html
    page = admin_client.get(reverse("admin:charging_chargerjob_change", args=[job.pk]))
    # The history table, oldest first.
    history = page.content.decode().split("<th>status</th><th>at</th>", 1)[1]
    assert page.status_code == 200 and history.index("Requested") < history.index("Downloading")


def test_send_again_queues_a_failed_webhook_delivery_afresh(admin_client):
    from charging.models import Webhook, WebhookDelivery

    webhook = Webhook.objects.create(url="http://x/", events=["command.failed"], secret="s")
    delivery = WebhookDelivery.objects.create(
        webhook=webhook,
        event_id="00000000-0000-0000-0000-000000000001",
        event="command.failed",
        body="{}",
        status="failed",
        attempts=3,
    )
    answer = admin_client.post(
        "/admin/charging/webhookdelivery/",
        {"action": "send_again", "_selected_action": [delivery.id]},
        follow=True,
    )
    assert answer.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 3
    assert b"1 delivery(ies) queued again" in answer.content


def test_a_webhook_is_added_and_changed_in_the_admin_keeping_its_secret(admin_client):
    from charging.models import Webhook

    form = {"url": "https://crm.example/hook", "events": ["transaction.started"], "active": "on"}
    refused = admin_client.post("/admin/charging/webhook/add/", form)
    assert refused.status_code == 200 and b"A secret is needed" in refused.content
    admin_client.post("/admin/charging/webhook/add/", {**form, "secret": "k"})
    webhook = Webhook.objects.get()
    assert (webhook.events, webhook.secret) == (["transaction.started"], "k")
    page = admin_client.get(f"/admin/charging/webhook/{webhook.id}/change/")
    assert b'value="k"' not in page.content  # never shown again
    admin_client.post(
        f"/admin/charging/webhook/{webhook.id}/change/",
        {**form, "events": ["transaction.started", "command.failed"]},
    )
    webhook.refresh_from_db()
    assert (webhook.events, webhook.secret) == (["transaction.started", "command.failed"], "k")
