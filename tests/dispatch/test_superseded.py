"""A newer connection on another gateway: the worker asks the older one's gateway to close it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from charging.dispatch import handle_event
from charging.models import ChargePoint, ConnectionRoute
from charging.protocol import envelope as wire

pytestmark = pytest.mark.django_db


def connect(conn: str, gateway: str, *, at=None) -> wire.Inbound:
    envelope = wire.inbound(
        "connect",
        cp="CP-1",
        conn=conn,
        gateway=gateway,
        reply_to=wire.gateway_queue(gateway),
        remote="10.0.0.1:5000",
        subprotocol="ocpp1.6",
    )
    if at is not None:
        envelope["at"] = at.isoformat()
    return envelope


def test_a_connect_on_another_gateway_closes_the_older_connection_there():
    assert handle_event(connect("c1", "gw-a")).closes == []
    handled = handle_event(connect("c2", "gw-b"))
    assert handled.closes == [("levity.gw.gw-a", wire.close_request("CP-1", "c1"))]
    assert handled.closes[0][1]["reason"] == "replaced by a newer connection"
    assert ChargePoint.objects.get(id="CP-1").connection_id == "c2"


def test_the_same_gateway_closes_its_own_older_connection():
    handle_event(connect("c1", "gw-a"))
    assert handle_event(connect("c2", "gw-a")).closes == []


def test_nothing_to_close_after_the_older_connection_ended():
    handle_event(connect("c1", "gw-a"))
    disconnect = wire.inbound(
        "disconnect", cp="CP-1", conn="c1", gateway="gw-a", reply_to="levity.gw.gw-a", code=1000
    )
    handle_event(disconnect)
    assert handle_event(connect("c2", "gw-b")).closes == []


def test_a_late_connect_of_an_older_connection_closes_that_one():
    now = timezone.now()
    handle_event(connect("new", "gw-b", at=now))
    handled = handle_event(connect("old", "gw-a", at=now - timedelta(seconds=1)))
    assert handled.closes == [("levity.gw.gw-a", wire.close_request("CP-1", "old"))]
    assert ChargePoint.objects.get(id="CP-1").connection_id == "new"


def test_a_redelivered_connect_asks_nothing_again():
    handle_event(connect("c1", "gw-a"))
    envelope = connect("c2", "gw-b")
    assert handle_event(envelope).closes
    assert handle_event(envelope).closes == []


def test_the_route_is_the_winning_connections_and_the_dispatchs_own_record():
    now = timezone.now()
    handle_event(connect("new", "gw-b", at=now))
    assert ConnectionRoute.objects.get(charge_point_id="CP-1").reply_to == "levity.gw.gw-b"
    handle_event(connect("old", "gw-a", at=now - timedelta(seconds=1)))  # loses: route kept
    assert ConnectionRoute.objects.get(charge_point_id="CP-1").reply_to == "levity.gw.gw-b"
    assert not hasattr(ChargePoint.objects.get(id="CP-1"), "reply_to")
