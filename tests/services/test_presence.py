"""Gateway presence against the real Redis: charge points of a gateway without a lease go
offline with their pending calls; everything else is left alone."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
import redis
from django.utils import timezone

from charging import conf, coordination, services
from charging.models import ChargePoint, ConnectionEvent, OutboundCall
from charging.protocol import envelope as env
from tests.factories import make_charge_point

pytestmark = pytest.mark.django_db

TTL = 30.0


@pytest.fixture
def presence(settings):
    settings.OCPP_GATEWAY_PRESENCE_TTL = TTL
    client = redis.Redis.from_url(conf.get("REDIS_URL"))
    tag = secrets.token_hex(3)
    alive, dead = f"gw-alive-{tag}", f"gw-dead-{tag}"
    client.set(env.gateway_lease_key(alive), "{}", ex=60)
    yield alive, dead
    client.delete(env.gateway_lease_key(alive))
    coordination._down_until = 0.0


def _connected(cp_id: str, gateway_id: str, *, ago: float = 120) -> ChargePoint:
    return make_charge_point(
        cp_id,
        connection_id=f"conn-{cp_id}",
        gateway_id=gateway_id,
        last_connect_at=timezone.now() - timedelta(seconds=ago),
    )


def test_charge_points_of_a_gateway_without_lease_go_offline_with_their_calls(presence):
    alive, dead = presence
    gone = _connected("CP-GONE", dead)
    kept = _connected("CP-KEPT", alive)
    just_connected = _connected("CP-NEW", dead, ago=1)  # its gateway may not have renewed yet
    pending = services.outbound_call_create(
        charge_point=gone, action="Reset", payload={"type": "Soft"}, connection_id="conn-CP-GONE"
    )

    assert services.charge_point_reap_dead_gateways() == 1

    gone.refresh_from_db()
    assert not gone.connected and gone.last_disconnect_at is not None
    event = ConnectionEvent.objects.get(charge_point=gone, kind="disconnect")
    assert (event.reason, event.gateway_id, event.connection_id) == (
        ConnectionEvent.PRESENCE_EXPIRED,
        dead,
        "conn-CP-GONE",
    )
    assert OutboundCall.objects.get(pk=pending.pk).status == "offline"
    assert ChargePoint.objects.get(pk=kept.pk).connected
    assert ChargePoint.objects.get(pk=just_connected.pk).connected
    assert services.charge_point_reap_dead_gateways() == 0  # idempotent


def test_nothing_is_reaped_without_redis_or_when_it_restarted_recently(presence, settings):
    _, dead = presence
    cp = _connected("CP-1", dead)
    # Redis restarted less than a TTL ago has lost every lease: it cannot tell who is dead.
    settings.OCPP_GATEWAY_PRESENCE_TTL = 10**9
    cp.last_connect_at = timezone.now() - timedelta(seconds=2 * 10**9)
    cp.save()
    assert services.charge_point_reap_dead_gateways() == 0
    settings.OCPP_GATEWAY_PRESENCE_TTL = TTL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    assert services.charge_point_reap_dead_gateways() == 0
    settings.OCPP_GATEWAY_PRESENCE_TTL = 0  # off
    assert services.charge_point_reap_dead_gateways() == 0
    assert ChargePoint.objects.get(pk="CP-1").connected


def test_a_frame_from_the_reaped_connection_brings_it_back(presence):
    _, dead = presence
    cp = _connected("CP-1", dead)
    assert services.charge_point_reap_dead_gateways() == 1
    cp.refresh_from_db()
    # Another connection's frame, or one of a connection that really closed, changes nothing.
    services.charge_point_lock_received(
        charge_point_id="CP-1", at=timezone.now(), connection_id="conn-other"
    )
    assert not ChargePoint.objects.get(pk="CP-1").connected
    services.charge_point_lock_received(
        charge_point_id="CP-1", at=timezone.now(), connection_id="conn-CP-1"
    )
    assert ChargePoint.objects.get(pk="CP-1").connected

    closed = _connected("CP-2", dead)
    services.charge_point_disconnected(charge_point=closed, connection_id="conn-CP-2", code=1000)
    closed.refresh_from_db()
    services.charge_point_lock_received(
        charge_point_id="CP-2", at=timezone.now(), connection_id="conn-CP-2"
    )
    assert not ChargePoint.objects.get(pk="CP-2").connected


def test_a_reaped_charge_point_is_announced_disconnected(
    presence, django_capture_on_commit_callbacks
):
    from charging import events

    _, dead = presence
    _connected("CP-GONE", dead)
    heard = []

    def record(sender, **kwargs):
        heard.append((kwargs["charge_point"].id, kwargs["reason"]))

    events.charge_point_disconnected.connect(record, dispatch_uid="test-reaped")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert services.charge_point_reap_dead_gateways() == 1
    finally:
        events.charge_point_disconnected.disconnect(dispatch_uid="test-reaped")
    assert heard == [("CP-GONE", ConnectionEvent.PRESENCE_EXPIRED)]
