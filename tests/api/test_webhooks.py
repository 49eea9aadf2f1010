"""POST/GET/DELETE /api/v1/webhooks/: the secret is write-only, URLs and event names are checked."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from charging.models import Webhook

URL = "/api/v1/webhooks/"
BODY = {
    "url": "https://billing.example/levity",
    "events": ["transaction.started", "transaction.stopped", "transaction.started"],
    "secret": "s3cret",
}

pytestmark = pytest.mark.django_db


def test_a_webhook_is_created_listed_read_and_deleted_without_its_secret(api):
    created = api.post(URL, BODY, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert "secret" not in body
    assert body["events"] == ["transaction.started", "transaction.stopped"]  # once each
    assert body["active"] is True
    webhook = Webhook.objects.get()
    assert webhook.secret == "s3cret" and webhook.url == BODY["url"]

    listed = api.get(URL).json()
    assert [item["id"] for item in listed["results"]] == [webhook.id]
    assert "secret" not in listed["results"][0]
    one = api.get(f"{URL}{webhook.id}/")
    assert one.status_code == 200 and one.json()["url"] == BODY["url"]

    assert api.delete(f"{URL}{webhook.id}/").status_code == 204
    assert not Webhook.objects.exists()
    assert api.get(f"{URL}{webhook.id}/").status_code == 404
    assert api.get(f"{URL}nope/").status_code == 404


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "ftp://files.example/"),
        ("url", "https://"),
        ("url", "https://a b/"),
        ("url", "https://example/\n"),
        ("events", []),
        ("events", ["transaction.exploded"]),
        ("secret", ""),
    ],
)
def test_a_bad_field_is_refused_by_name(api, field, value):
    answer = api.post(URL, {**BODY, field: value}, format="json")
    assert answer.status_code == 400
    assert field in answer.json()
    assert not Webhook.objects.exists()


def test_webhooks_need_their_model_permissions(db):
    user = get_user_model().objects.create_user("nobody", password="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert client.get(URL).status_code == 403
    assert client.post(URL, BODY, format="json").status_code == 403


def test_there_is_no_update(api):
    webhook = Webhook.objects.create(url="http://x/", events=["command.failed"], secret="s")
    assert api.patch(f"{URL}{webhook.id}/", {"active": False}, format="json").status_code == 405
