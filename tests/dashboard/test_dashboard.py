"""The dashboard: staff only; its JSON says what the database holds."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from charging import services
from charging.models import Connector, OutboundCall
from tests.factories import iso, make_charge_point, make_message, make_transaction

pytestmark = pytest.mark.django_db

PAGE = reverse("dashboard:index")
DATA = reverse("dashboard:data")


def test_staff_only(client):
    assert client.get(PAGE).status_code == 302  # to the admin login
    assert client.get(DATA).status_code == 302
    user = get_user_model().objects.create_user("someone", password="x")
    client.force_login(user)
    assert client.get(DATA).status_code == 302
    user.is_staff = True
    user.save()
    assert client.get(DATA).status_code == 200


@pytest.fixture
def fleet(settings):
    settings.OCPP_HEARTBEAT_INTERVAL = 300
    now = timezone.now()
    online = make_charge_point("CP-ON", last_message_at=now)
    silent = make_charge_point("CP-SILENT", last_message_at=now - timedelta(hours=1))
    make_charge_point("CP-OFF", connected=False, last_message_at=now)
    for point, status in ((online, "Charging"), (online, "Available"), (silent, "Faulted")):
        Connector.objects.create(
            charge_point=point,
            connector_id=Connector.objects.filter(charge_point=point).count() + 1,
            status=status,
            error_code="GroundFailure" if status == "Faulted" else "NoError",
            status_updated_at=now,
        )
    Connector.objects.create(charge_point=online, connector_id=0, status="Available")  # not counted
    # Stopped today: 3.5 kWh; stopped 3 days ago: 10 kWh; 40 days ago: outside the 30 days.
    for days, wh in ((0, 3500), (3, 10000), (40, 99000)):
        at = now - timedelta(days=days)
        make_transaction(online, meter_start=1000, meter_stop=1000 + wh, stop_received_at=at)
    running = make_transaction(online, connector_id=1, meter_start=2000)
    services.meter_values_record(
        charge_point=online,
        connector_id=1,
        transaction_id=running.id,
        meter_values=[{"timestamp": iso(now), "sampledValue": [{"value": "2750"}]}],
    )
    make_message(online, message_type=4, unique_id="u-err", error_code="NotSupported")
    OutboundCall.objects.create(
        charge_point=silent, unique_id=str(uuid.uuid4()), action="Reset", status="timeout"
    )
    return running


def test_json_numbers(admin_client, fleet):
    data = admin_client.get(DATA).json()
    assert data["charge_points"] == {"total": 3, "online": 1, "offline": 2}
    assert data["connectors"] == {"Available": 1, "Charging": 1, "Faulted": 1}
    assert data["active_transactions"]["count"] == 1
    [active] = data["active_transactions"]["items"]
    assert (active["id"], active["charge_point"], active["energy_kwh"]) == (fleet.id, "CP-ON", 0.75)
    assert data["energy_kwh"]["today"] == pytest.approx(3.5 + 0.75)
    assert data["energy_kwh"]["last_30_days"] == pytest.approx(3.5 + 0.75 + 10)
    days = data["energy_kwh"]["days"]
    assert len(days) == 30 and days[-1]["day"] == timezone.localdate().isoformat()
    assert days[-4]["kwh"] == pytest.approx(10)
    kinds = sorted(error["kind"] for error in data["errors"])
    assert kinds == ["CALLERROR from charger", "Faulted", "call timeout"]
    assert (
        data["energy_chart_svg"].startswith("<svg")
        and data["energy_chart_svg"].count('class="bar"') == 30
    )


def test_page_renders_the_same_numbers_and_polls(admin_client, fleet):
    response = admin_client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-field="charge_points.online">1<' in html
    assert 'data-field="active_transactions.count">1<' in html
    assert "charging/dashboard.js" in html and reverse("dashboard:data") in html
    assert html.count('class="bar"') == 30 and "GroundFailure" in html


def test_admin_index_links_the_dashboard(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert f'href="{PAGE}"' in response.content.decode()
