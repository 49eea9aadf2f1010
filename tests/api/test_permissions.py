"""The API checks Django's model permissions like the admin: view to read, change of the charge
point for commands, keys and approval, add/change/delete for id tags."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from charging.models import ChargePoint, IdTag

pytestmark = pytest.mark.django_db

READS = [
    "/api/v1/charge-points/",
    "/api/v1/charge-points/CP-1/",
    "/api/v1/transactions/",
    "/api/v1/id-tags/",
    "/api/v1/id-tags/TAG-1/",
    "/api/v1/calls/",
    "/api/v1/reservations/",
    "/api/v1/jobs/",
    "/api/v1/charge-points/CP-1/charging-profiles/",
]
# (method, url, body, the status with the permission it needs)
WRITES = [
    ("post", "/api/v1/charge-points/CP-1/calls/Reset/?wait=0", {"type": "Soft"}, 202),
    ("post", "/api/v1/charge-points/CP-1/authorization-key/", {}, 200),
    ("delete", "/api/v1/charge-points/CP-1/authorization-key/", None, 204),
    ("post", "/api/v1/charge-points/CP-1/approval/", {"approved": True}, 200),
    ("post", "/api/v1/id-tags/", {"id_tag": "TAG-2"}, 201),
    ("patch", "/api/v1/id-tags/TAG-1/", {"status": "Blocked"}, 200),
    ("delete", "/api/v1/id-tags/TAG-1/", None, 204),
]
# What the admin asks for the same things.
CHANGE = ["change_chargepoint", "add_idtag", "change_idtag", "delete_idtag"]


@pytest.fixture(autouse=True)
def _rows(db: Any) -> None:
    ChargePoint.objects.create(id="CP-1", connected=True)
    IdTag.objects.create(id_tag="TAG-1")


def client_with(*codenames: str, view_all: bool = False) -> APIClient:
    user = get_user_model().objects.create_user(f"u{get_user_model().objects.count()}")
    perms = Permission.objects.filter(content_type__app_label="charging")
    if view_all:
        user.user_permissions.add(*perms.filter(codename__startswith="view_"))
    user.user_permissions.add(*perms.filter(codename__in=codenames))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def send(client: APIClient, method: str, url: str, body: Any) -> int:
    return getattr(client, method)(url, body, format="json").status_code


@pytest.mark.parametrize("url", READS)
def test_reading_needs_the_view_permission(url):
    assert client_with().get(url).status_code == 403
    assert client_with(view_all=True).get(url).status_code == 200


@pytest.mark.parametrize(("method", "url", "body", "allowed"), WRITES)
def test_writing_needs_the_admins_permission(method, url, body, allowed):
    assert send(APIClient(), method, url, body) == 401
    assert send(client_with(), method, url, body) == 403
    assert send(client_with(view_all=True), method, url, body) == 403
    assert send(client_with(*CHANGE), method, url, body) == allowed


def test_change_of_the_charge_point_is_what_commands_need():
    # Every other permission of the app, but not change_chargepoint: refused, nothing sent.
    others = (
        Permission.objects.filter(content_type__app_label="charging")
        .exclude(codename="change_chargepoint")
        .values_list("codename", flat=True)
    )
    client = client_with(*others)
    assert send(client, "post", "/api/v1/charge-points/CP-1/calls/Reset/?wait=0", {}) == 403
    assert send(client, "post", "/api/v1/charge-points/CP-1/approval/", {}) == 403
    assert not ChargePoint.objects.get(id="CP-1").outbound_calls.exists()
