"""The project's face: `/` leads to the dashboard, the admin carries Levity's name, lists charging
first and keeps Celery's task results out of the operators' way."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_root_sends_a_visitor_to_the_login_and_an_operator_to_the_dashboard(client):
    anonymous = client.get("/")
    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/admin/login/?next=%2Fdashboard%2F"
    staff = get_user_model().objects.create_user("op", password="x", is_staff=True)
    client.force_login(staff)
    logged_in = client.get("/")
    assert logged_in.status_code == 302 and logged_in["Location"] == "/dashboard/"


def app_names(html: str) -> list[str]:
    return re.findall(r'<caption>\s*<a href="/admin/[^"]+/" class="section"[^>]*>([^<]+)</a>', html)


def test_the_admin_is_branded_and_lists_charging_first(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "<title>Charging operations | Levity</title>" in html
    assert '<a href="/admin/">Levity</a>' in html
    assert "Django administration" not in html
    names = app_names(html)
    assert names[0] == "Charging (OCPP 1.6J)"
    assert names[-1] == "System (Celery task results)"  # a superuser still finds them, last
    assert "Celery Results" not in names


def test_operators_do_not_see_celery_task_results(client):
    operator = get_user_model().objects.create_user("op", password="x", is_staff=True)
    operator.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["charging", "django_celery_results"],
            codename__startswith="view_",
        )
    )
    client.force_login(operator)
    names = app_names(client.get(reverse("admin:index")).content.decode())
    assert names[0] == "Charging (OCPP 1.6J)"
    assert not [name for name in names if "Celery" in name]
    assert client.get("/admin/django_celery_results/").status_code == 404


def test_times_are_written_to_the_second_with_their_zone(admin_client):
    from tests.factories import CHARGER_TIME, make_charge_point, make_transaction

    session = make_transaction(make_charge_point("CP-1"))
    html = admin_client.get(reverse("admin:charging_transaction_changelist")).content.decode()
    assert CHARGER_TIME.strftime("%Y-%m-%d</span><br>%H:%M:%S UTC") in html  # day above time
    assert " p.m." not in html and " a.m." not in html
    page = admin_client.get(reverse("admin:charging_transaction_change", args=[session.pk]))
    assert CHARGER_TIME.strftime("%Y-%m-%d %H:%M:%S UTC") in page.content.decode()
    # A normal session says so in words; no red ✗ beside "closed as orphan".
    assert re.search(
        r"Closed as orphan:</label>\s*<div class=\"readonly\">no</div>", page.content.decode()
    )


def test_every_page_has_the_icon(admin_client, client):
    icon = '<link rel="icon" type="image/svg+xml" href="/static/charging/favicon.svg">'
    assert icon in admin_client.get(reverse("admin:index")).content.decode()
    assert icon in admin_client.get("/dashboard/").content.decode()
    assert icon in client.get("/demo/ocpp/").content.decode()
    assert client.get("/favicon.ico")["Location"] == "/static/charging/favicon.svg"
    assert client.get("/static/charging/favicon.svg").status_code == 200


def test_no_offline_charger_is_not_an_alarm(admin_client):
    from tests.factories import make_charge_point

    html = admin_client.get("/dashboard/").content.decode()
    assert 'class="big" data-field="charge_points.offline"' in html
    make_charge_point("CP-1", connected=False, connection_id="")
    html = admin_client.get("/dashboard/").content.decode()
    assert 'class="big dash-offline" data-field="charge_points.offline"' in html
