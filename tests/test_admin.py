"""The admin shows every charging model; only id tags (and charge points, registered before
they connect: tests/test_admission_admin.py) can be added by hand."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import make_charge_point, make_id_tag, make_message, make_transaction

pytestmark = pytest.mark.django_db

MODELS = [
    "chargepoint",
    "connector",
    "idtag",
    "transaction",
    "metervalue",
    "message",
    "connectionevent",
    "outboundcall",
]


@pytest.mark.parametrize("model", MODELS)
def test_changelists_load(admin_client, model):
    point = make_charge_point()
    make_transaction(point)
    make_message(point, action="Heartbeat", payload={})
    make_id_tag()
    response = admin_client.get(reverse(f"admin:charging_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", [m for m in MODELS if m not in ("idtag", "chargepoint")])
def test_charger_data_cannot_be_added_by_hand(admin_client, model):
    assert admin_client.get(reverse(f"admin:charging_{model}_add")).status_code == 403


def test_id_tags_can_be_added(admin_client):
    response = admin_client.post(
        reverse("admin:charging_idtag_add"), {"id_tag": "NEW-TAG", "status": "Blocked"}
    )
    assert response.status_code == 302
    from charging.models import IdTag

    assert IdTag.objects.get(id_tag="NEW-TAG").status == "Blocked"


def test_the_app_index_page_exists(client):
    response = client.get(reverse("charging:index"))
    assert response.status_code == 200 and b"simulator" in response.content
