"""The API needs a user (token or session); its OpenAPI schema and docs are served locally."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from charging.commands import CENTRAL_SYSTEM_ACTIONS

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/v1/charge-points/",
    "/api/v1/charge-points/CP-1/",
    "/api/v1/transactions/",
    "/api/v1/id-tags/",
    "/api/v1/calls/",
]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_requests_get_401(url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_anonymous_cannot_send_a_call():
    response = APIClient().post("/api/v1/charge-points/CP-1/calls/Reset/", {}, format="json")
    assert response.status_code == 401


def test_a_wrong_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/v1/charge-points/").status_code == 401


def test_session_login_works(client, user):
    client.force_login(user)
    assert client.get("/api/v1/charge-points/").status_code == 200


def test_drf_create_token_command_makes_a_working_token(user):
    call_command("drf_create_token", "operator")
    token = Token.objects.get(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get("/api/v1/id-tags/").status_code == 200


def test_schema_is_an_openapi_document_with_every_endpoint(api):
    response = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in [
        "/api/v1/charge-points/",
        "/api/v1/charge-points/{id}/",
        "/api/v1/charge-points/{charge_point_id}/calls/Reset/",
        "/api/v1/transactions/",
        "/api/v1/transactions/{id}/",
        "/api/v1/id-tags/",
        "/api/v1/id-tags/{id_tag}/",
        "/api/v1/calls/",
        "/api/v1/calls/{id}/",
    ]:
        assert path in paths, path
    reset = paths["/api/v1/charge-points/{charge_point_id}/calls/Reset/"]["post"]
    assert set(reset["responses"]) >= {
        "200",
        "202",
        "400",
        "401",
        "403",
        "404",
        "409",
        "502",
        "504",
    }
    # One operation per action, its body the action's OCPP 1.6 schema.
    body = reset["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["type"] and body["properties"]["type"]["enum"] == ["Hard", "Soft"]
    calls = [p for p in paths if p.startswith("/api/v1/charge-points/{charge_point_id}/calls/")]
    assert len(calls) == len(CENTRAL_SYSTEM_ACTIONS)
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_docs_page_loads_no_asset_from_the_internet(client):
    user = get_user_model().objects.create_user("reader", password="secret")
    client.force_login(user)
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any("swagger-ui" in asset for asset in assets)
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    assert '"validatorUrl": null' in html  # else Swagger UI calls validator.swagger.io
    # The assets themselves are served by us (WhiteNoise, from the sidecar app's static files).
    script = next(a for a in assets if a.endswith("swagger-ui-bundle.js"))
    assert client.get(script).status_code == 200


def test_schema_and_docs_are_public():
    # They describe open-source code; the data endpoints above are what needs a user.
    assert APIClient().get("/api/v1/schema/").status_code == 200
    assert APIClient().get("/api/v1/docs/").status_code == 200
