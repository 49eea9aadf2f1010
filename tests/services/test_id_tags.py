"""services.id_tag_authorize: idTagInfo from IdTag rows (OCPP 1.6 IdTagInfo type)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from charging import services
from tests.factories import make_id_tag

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("status", ["Accepted", "Blocked", "Expired", "Invalid"])
def test_stored_status_is_answered(status):
    make_id_tag("T", status=status)
    assert services.id_tag_authorize(id_tag="T") == {"status": status}


def test_past_expiry_date_means_expired_and_is_reported():
    expired = timezone.now() - timedelta(days=1)
    make_id_tag("OLD", expiry_date=expired)
    info = services.id_tag_authorize(id_tag="OLD")
    assert info["status"] == "Expired"
    assert info["expiryDate"].endswith("Z")


def test_future_expiry_date_and_parent_are_reported():
    parent = make_id_tag("FLEET")
    make_id_tag("CARD", parent=parent, expiry_date=timezone.now() + timedelta(days=1))
    info = services.id_tag_authorize(id_tag="CARD")
    assert info["status"] == "Accepted"
    assert info["parentIdTag"] == "FLEET"
    assert "expiryDate" in info


def test_lookup_is_case_insensitive():
    make_id_tag("abc", status="Blocked")
    assert services.id_tag_authorize(id_tag="ABC")["status"] == "Blocked"


def test_unknown_tags_follow_the_setting(settings):
    settings.OCPP_ACCEPT_UNKNOWN_ID_TAGS = True
    assert services.id_tag_authorize(id_tag="NOPE") == {"status": "Accepted"}
    settings.OCPP_ACCEPT_UNKNOWN_ID_TAGS = False
    assert services.id_tag_authorize(id_tag="NOPE") == {"status": "Invalid"}
