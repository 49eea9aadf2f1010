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
