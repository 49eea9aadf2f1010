"""Admin pages as operators see them: charge points, transactions, messages, id tags."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from charging import services
from charging.models import ConfigurationKey, ConnectionEvent, Connector, IdTag, Transaction
from tests.factories import (
    CHARGER_TIME,
    iso,
    make_charge_point,
    make_id_tag,
    make_message,
    make_transaction,
)

pytestmark = pytest.mark.django_db

CP_LIST = reverse("admin:charging_chargepoint_changelist")
TX_LIST = reverse("admin:charging_transaction_changelist")
MSG_LIST = reverse("admin:charging_message_changelist")


def charger(cp_id: str, *, online: bool = True, statuses=("Available",), vendor="Acme"):
    now = timezone.now()
    point = make_charge_point(
        cp_id,
        vendor=vendor,
        model="Wallbox 22",
        firmware_version="1.2.3",
        last_heartbeat_at=now - timedelta(minutes=3 if online else 24 * 60),
        last_message_at=now if online else now - timedelta(days=1),
    )
    for number, status in enumerate(statuses, start=1):
        Connector.objects.create(charge_point=point, connector_id=number, status=status)
    return point


def listed(client, url, query=""):
    response = client.get(url + query)
    assert response.status_code == 200
    return [obj.pk for obj in response.context["cl"].result_list]


def test_charge_point_list_shows_presence_connectors_and_active_transaction(admin_client):
    point = charger("CP-1", statuses=("Charging", "Faulted"))
    tx = make_transaction(point, id_tag="CARD-7")
    charger("CP-2", online=False)
    html = admin_client.get(CP_LIST).content.decode()
    assert ">online<" in html and ">silent<" in html  # CP-2: connected flag, but silent a day
    assert ">1 Charging<" in html and ">2 Faulted<" in html
    assert f"#{tx.id} on 1 (CARD-7)" in html
    assert "3\xa0minutes ago" in html or "3 minutes ago" in html
    # Vendor, model and firmware are on the charge point's page, not in the list.
    assert "Wallbox 22" not in html and "1.2.3" not in html
    pending_badge = r'<span title="BootNotification answer"[^>]*>Pending</span>'
    assert not re.search(pending_badge, html)
    point.registration_status = "Pending"
    point.save()
    assert re.search(pending_badge, admin_client.get(CP_LIST).content.decode())


def test_a_charge_start_loop_is_flagged_on_the_charge_point_and_connector_lists(admin_client):
    point = charger("CP-1", statuses=("Charging", "Available"))
    charger("CP-2")
    Connector.objects.filter(charge_point=point, connector_id=1).update(
        transaction_loop_at=timezone.now(), transaction_loop_count=9
    )
    html = admin_client.get(CP_LIST).content.decode()
    assert ">1 Charging ⚠ loop<" in html and ">2 Available<" in html
    assert "charge-start loop: 9 transactions started within a minute" in html
    connectors = reverse("admin:charging_connector_changelist")
    flagged = listed(admin_client, connectors, "?transaction_loop_at__isnull=False")
    assert [Connector.objects.get(pk=pk).charge_point_id for pk in flagged] == ["CP-1"]
    html = admin_client.get(connectors).content.decode()
    assert html.count("charge-start loop: 9 transactions started within a minute") == 1


def test_charge_point_filters_and_search(admin_client):
    charger("CP-1", statuses=("Charging",), vendor="Acme")
    charger("CP-2", online=False, statuses=("Available", "Faulted"), vendor="Bolt")
    charger("CP-3", statuses=("Faulted",), vendor="Bolt")
    assert listed(admin_client, CP_LIST, "?online=yes") == ["CP-1", "CP-3"]
    assert listed(admin_client, CP_LIST, "?online=no") == ["CP-2"]
    assert listed(admin_client, CP_LIST, "?connector_status=Faulted") == ["CP-2", "CP-3"]
    assert listed(admin_client, CP_LIST, "?vendor=Bolt&online=yes") == ["CP-3"]
    assert listed(admin_client, CP_LIST, "?q=CP-2") == ["CP-2"]


def test_charge_point_changelist_queries_do_not_grow_with_rows(admin_client):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(CP_LIST).status_code == 200
        return len(queries)

    for i in range(3):
        point = charger(f"CP-{i}", statuses=("Available", "Charging"))
        make_transaction(point)
    three = count_queries()
    for i in range(3, 10):
        point = charger(f"CP-{i}", statuses=("Available", "Charging", "Faulted"))
        make_transaction(point)
    assert count_queries() == three
    assert three <= 12


def test_charge_point_detail_is_read_only_with_connectors_events_messages_and_keys(admin_client):
    point = charger("CP-1", statuses=("Charging",))
    ConfigurationKey.objects.create(charge_point=point, key="HeartbeatInterval", value="300")
    ConnectionEvent.objects.create(charge_point=point, kind="connect", remote="10.0.0.7:5555")
    make_message(point, action="Heartbeat", unique_id="hb-77", payload={})
    response = admin_client.get(reverse("admin:charging_chargepoint_change", args=["CP-1"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Charging" in html and "HeartbeatInterval" in html
    assert "10.0.0.7:5555" in html and "hb-77" in html
    assert 'name="_save"' not in html and 'name="connectors-TOTAL_FORMS"' in html
    assert 'value="remote_start"' in html and 'name="_from_change"' in html  # commands
    # No command is chosen for the operator: the first option sends nothing.
    assert '<select name="action" aria-label="Command" required>' in html
    assert '<option value="" selected>Choose a command…</option>' in html


def test_a_command_sent_from_the_detail_page_comes_back_there(admin_client, monkeypatch):
    from charging import commands

    sent = []
    monkeypatch.setattr(
        commands, "call", lambda cp, action, payload, **kw: sent.append((cp, action)) or {}
    )
    charger("CP-1")
    response = admin_client.post(
        CP_LIST,
        {
            "action": "clear_cache",
            "_selected_action": "CP-1",
            "apply": "yes",
            "_from_change": "CP-1",
        },
    )
    assert sent == [("CP-1", "ClearCache")]
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:charging_chargepoint_change", args=["CP-1"])


@pytest.mark.parametrize(
    "model",
    [
        "chargepoint",
        "connector",
        "transaction",
        "metervalue",
        "message",
        "connectionevent",
        "outboundcall",
        "configurationkey",
    ],
)
def test_charger_owned_rows_cannot_be_deleted(admin_client, model):
    point = charger("CP-1")
    make_transaction(point)
    response = admin_client.get(reverse(f"admin:charging_{model}_changelist"))
    assert response.status_code == 200
    assert 'value="delete_selected"' not in response.content.decode()


def test_transaction_list_columns_and_active_filter(admin_client):
    point = charger("CP-1")
    done = make_transaction(
        point,
        meter_start=1000,
        meter_stop=23500,
        stopped_at=CHARGER_TIME + timedelta(hours=2, minutes=5),
        stop_received_at=timezone.now(),
        stop_reason="EVDisconnected",
    )
    running = make_transaction(point, connector_id=2)
    html = admin_client.get(TX_LIST).content.decode()
    assert "22.500" in html and "stopped (EVDisconnected)" in html and ">active<" in html
    assert "CP-1 / 2" in html and "2:05:00" not in html  # the duration is on the detail page
    detail = admin_client.get(reverse("admin:charging_transaction_change", args=[done.id]))
    assert "2:05:00" in detail.content.decode()
    assert listed(admin_client, TX_LIST, "?active=yes") == [running.id]
    assert listed(admin_client, TX_LIST, "?active=no") == [done.id]


def test_transaction_detail_has_the_chart_and_flagged_samples(admin_client, settings):
    settings.OCPP_METER_JUMP_WH = 10000
    point = charger("CP-1")
    tx = make_transaction(point, meter_start=0)
    services.meter_values_record(
        charge_point=point,
        connector_id=1,
        transaction_id=tx.id,
        meter_values=[
            {
                "timestamp": iso(CHARGER_TIME + timedelta(minutes=m)),
                "sampledValue": [
                    {"value": v},
                    {"value": p, "measurand": "Power.Active.Import", "unit": "W"},
                ],
            }
            for m, v, p in (
                (0, "0", "7000"),
                (30, "3500", "7400"),
                (45, "90000", "7400"),
                (60, "7000", "6800"),
            )
        ],
    )
    response = admin_client.get(reverse("admin:charging_transaction_change", args=[tx.id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="series-energy"' in html and 'class="series-power"' in html
    assert html.count('class="jump"') == 1 and "jump: left out" in html
    assert "1 energy jump(s) flagged and left out." in html
    assert Transaction.objects.count() == 1 and 'name="_save"' not in html


def test_message_log_filters_search_and_pretty_json(admin_client):
    one, two = charger("CP-1"), charger("CP-2")
    boot = make_message(
        one,
        action="BootNotification",
        unique_id="b-1",
        payload={"chargePointVendor": "Acme", "chargePointModel": "X"},
    )
    err = make_message(
        two, message_type=4, unique_id="e-1", error_code="NotSupported", error_details={"why": "no"}
    )
    out = make_message(
        one, direction="out", message_type=3, unique_id="b-1", payload={"status": "Accepted"}
    )
    assert listed(admin_client, MSG_LIST, "?charge_point__id__exact=CP-2") == [err.pk]
    assert listed(admin_client, MSG_LIST, "?action=BootNotification") == [boot.pk]
    assert listed(admin_client, MSG_LIST, "?direction__exact=out") == [out.pk]
    assert listed(admin_client, MSG_LIST, "?message_type__exact=4") == [err.pk]
    assert listed(admin_client, MSG_LIST, "?has_error=yes") == [err.pk]
    assert listed(admin_client, MSG_LIST, "?q=b-1") == [out.pk, boot.pk]
    detail = admin_client.get(reverse("admin:charging_message_change", args=[boot.pk]))
    html = detail.content.decode()
    assert (
        "{\n  &quot;chargePointModel&quot;: &quot;X&quot;,\n  &quot;chargePointVendor&quot;" in html
    )
    assert 'name="_save"' not in html


def test_id_tags_are_editable(admin_client):
    parent = make_id_tag("FLEET")
    tag = make_id_tag("CARD-1")
    response = admin_client.post(
        reverse("admin:charging_idtag_change", args=[tag.pk]),
        {
            "id_tag": "CARD-1",
            "status": "Blocked",
            "expiry_date_0": "2027-01-01",
            "expiry_date_1": "00:00:00",
            "parent": parent.pk,
        },
    )
    assert response.status_code == 302
    tag = IdTag.objects.get(pk=tag.pk)
    assert (tag.status, tag.parent_id, tag.expiry_date.year) == ("Blocked", parent.pk, 2027)


def test_transaction_changelist_queries_do_not_grow_with_rows(admin_client):
    point = charger("CP-1")

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(TX_LIST).status_code == 200
        return len(queries)

    make_transaction(point)
    one = count_queries()
    for _ in range(8):
        make_transaction(point, meter_stop=5000, stop_received_at=timezone.now())
    assert count_queries() == one


def test_security_events_list_shows_critical_ones_in_red(admin_client):
    cp = make_charge_point("CP-1")
    services.security_event_record(
        charge_point=cp, type="TamperDetectionActivated", timestamp=None, tech_info="lid"
    )
    services.security_event_record(charge_point=cp, type="InvalidMessages", timestamp=None)
    html = admin_client.get(reverse("admin:charging_securityevent_changelist")).content.decode()
    critical = html.index("TamperDetectionActivated")
    assert "#ba2121" in html[critical - 300 : critical]  # the critical badge's colour
    other = html.index(">InvalidMessages<")
    assert "#ba2121" not in html[other - 300 : other]
    only = admin_client.get(
        reverse("admin:charging_securityevent_changelist") + "?critical__exact=1"
    ).content.decode()
    assert "TamperDetectionActivated" in only and ">InvalidMessages<" not in only
