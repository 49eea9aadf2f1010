"""The charge point simulator page (charging.views.index) and its static assets."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_simulator_page_is_prefilled_with_the_gateway_url(client, settings):
    settings.OCPP_GATEWAY_URL = "ws://gw.example:9100/ocpp/"
    response = client.get(reverse("charging:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        'id="gateway-url" name="gateway_url" type="url" value="ws://gw.example:9100/ocpp/"' in html
    )
    assert "/static/charging/simulator.js" in html and "/static/charging/simulator.css" in html
    assert "<script>" not in html  # the code is in the static file; no inline script, no CDN
    assert "https://" not in html and "http://" not in html


def test_the_page_carries_the_1_6_vocabularies_from_the_schemas(client):
    response = client.get("/demo/ocpp/")
    config = json.loads(_config_block(response))
    assert config["gatewayUrl"] == "ws://localhost:9000/ocpp/"
    assert "SuspendedEVSE" in config["statuses"] and len(config["statuses"]) == 9
    assert "NoError" in config["errorCodes"] and len(config["errorCodes"]) == 16
    assert "EVDisconnected" in config["stopReasons"]
    assert config["firmwareStatuses"][-1] == "Installed"  # 1.6 core, not the security extension's
    assert "RemoteStartTransaction" in config["centralSystemActions"]
    assert "BootNotification" not in config["centralSystemActions"]


def _config_block(response) -> str:
    html = response.content.decode()
    start = html.index('<script id="simulator-config" type="application/json">')
    return html[html.index(">", start) + 1 : html.index("</script>", start)]


def test_each_load_is_a_new_charge_point_id(client):
    first = client.get("/demo/ocpp/").context["charge_point_id"]
    second = client.get("/demo/ocpp/").context["charge_point_id"]
    assert first.startswith("SIM-") and first != second


@pytest.mark.parametrize(
    ("path", "content_type", "marker"),
    [
        ("/static/charging/simulator.js", "javascript", b"class Charger"),
        ("/static/charging/simulator.css", "text/css", b".connector"),
    ],
)
def test_the_static_assets_are_served(client, path, content_type, marker):
    response = client.get(path)  # by WhiteNoise, from the app's static directory
    assert response.status_code == 200
    assert content_type in response["Content-Type"]
    assert marker in b"".join(response.streaming_content)


def test_turned_off_the_page_is_404(client, settings):
    settings.OCPP_SIMULATOR_ENABLED = False
    assert client.get(reverse("charging:index")).status_code == 404
