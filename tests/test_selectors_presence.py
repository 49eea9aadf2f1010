"""The online rule: connected, and heard from within 2 × heartbeat interval + margin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from charging import selectors
from charging.models import ChargePoint
from tests.factories import make_charge_point

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _intervals(settings):
    settings.OCPP_HEARTBEAT_INTERVAL = 300
    settings.OCPP_PRESENCE_MARGIN = 60  # offline after 660 s of silence


def test_cutoff_is_twice_the_heartbeat_plus_margin():
    now = timezone.now()
    assert selectors.charge_point_online_cutoff(now=now) == now - timedelta(seconds=660)


@pytest.mark.parametrize(
    ("connected", "silence", "online"),
    [
        (True, 30, True),
        (True, 650, True),
        (True, 670, False),  # still flagged connected, but its socket is dead
        (False, 30, False),  # the gateway reported the disconnect
    ],
)
def test_online_rule_in_python_and_in_sql_agree(connected, silence, online):
    now = timezone.now()
    point = make_charge_point(
        connected=connected,
        last_message_at=now - timedelta(seconds=silence),
        last_connect_at=now - timedelta(days=1),
    )
    assert selectors.charge_point_is_online(charge_point=point, now=now) is online
    in_sql = ChargePoint.objects.filter(selectors.charge_point_online_q(now=now)).exists()
    assert in_sql is online
    offline_in_sql = ChargePoint.objects.exclude(selectors.charge_point_online_q(now=now)).exists()
    assert offline_in_sql is not online


def test_a_fresh_connect_counts_and_never_seen_is_offline():
    now = timezone.now()
    fresh = make_charge_point("CP-FRESH", last_connect_at=now - timedelta(seconds=5))
    never = make_charge_point("CP-NEVER")  # connected flag, but no time at all
    assert selectors.charge_point_is_online(charge_point=fresh, now=now)
    assert not selectors.charge_point_is_online(charge_point=never, now=now)
    offline = ChargePoint.objects.exclude(selectors.charge_point_online_q(now=now))
    assert list(offline.values_list("id", flat=True)) == ["CP-NEVER"]
