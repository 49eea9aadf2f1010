"""When the automatic RemoteStartTransaction is skipped, and the charge-start loop flag."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from charging import services
from charging.models import Connector, OutboundCall, Transaction
from tests.factories import make_charge_point, make_transaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def point():
    point = make_charge_point()
    Connector.objects.create(charge_point=point, connector_id=1, status="Preparing")
    return point


def skip(point, **fields):
    point.refresh_from_db()
    return services.auto_remote_start_skip_reason(charge_point=point, connector_id=1, **fields)


def remote_start(point, **fields):
    fields.setdefault("payload", {"connectorId": 1, "idTag": "anonymous"})
    return OutboundCall.objects.create(
        charge_point=point,
        unique_id=f"rs-{OutboundCall.objects.count()}",
        **fields,
        action="RemoteStartTransaction",
    )


def test_a_preparing_connector_without_reasons_gets_one(point):
    assert skip(point) == ""


def test_off_by_setting(point, settings):
    settings.OCPP_AUTO_REMOTE_START = False
    assert skip(point) == "OCPP_AUTO_REMOTE_START is off"


def test_not_for_an_unapproved_charge_point(point):
    point.approved = False
    point.save()
    assert skip(point) == "the charge point is not approved"


@pytest.mark.parametrize("status", ["Charging", "Available", "SuspendedEV"])
def test_not_once_the_connector_left_preparing(point, status):
    Connector.objects.filter(connector_id=1).update(status=status)
    assert skip(point) == f"the connector is {status} now, no longer Preparing"


def test_not_with_an_open_transaction(point):
    transaction = make_transaction(point)
    assert skip(point) == f"transaction {transaction.id} is open on it"
    Transaction.objects.filter(pk=transaction.pk).update(stop_received_at=timezone.now())
    assert skip(point) == ""
    make_transaction(point, connector_id=2)  # another connector's transaction is no reason
    assert skip(point) == ""


def test_not_within_the_grace_after_an_accepted_authorize(point, settings):
    settings.OCPP_AUTO_REMOTE_START_AFTER_AUTHORIZE_GRACE = 60
    now = timezone.now()
    services.charge_point_authorized(charge_point=point, at=now - timedelta(seconds=59))
    assert "an idTag was authorized 59 s ago" in skip(point, now=now)
    assert skip(point, now=now + timedelta(seconds=2)) == ""


def test_not_while_a_remote_start_is_pending_or_within_the_cooldown_of_an_accepted_one(
    point, settings
):
    settings.OCPP_AUTO_REMOTE_START_COOLDOWN = 120
    now = timezone.now()
    pending = remote_start(point, status="sent")
    assert skip(point) == f"RemoteStartTransaction {pending.unique_id} is pending"
    # The due call itself is not its own reason.
    assert skip(point, call=pending) == ""
    pending.status, pending.response = "answered", {"status": "Accepted"}
    pending.answered_at = now - timedelta(seconds=119)
    pending.save()
    assert skip(point, now=now) == f"RemoteStartTransaction {pending.unique_id} was accepted"
    assert skip(point, now=now + timedelta(seconds=2)) == ""


def test_refused_or_other_connectors_remote_starts_are_no_reason(point):
    now = timezone.now()
    remote_start(point, status="answered", response={"status": "Rejected"}, answered_at=now)
    remote_start(point, status="sent", payload={"connectorId": 2, "idTag": "x"})
    assert skip(point, now=now) == ""
    # An operator's RemoteStart without a connector may land on this one.
    remote_start(point, status="queued", payload={"idTag": "x"})
    assert "is pending" in skip(point, now=now)


def test_a_connector_starting_more_than_the_threshold_a_minute_is_flagged(point, settings, caplog):
    settings.OCPP_TRANSACTION_LOOP_THRESHOLD = 3
    now = timezone.now()
    for n in range(3):
        make_transaction(point, start_received_at=now - timedelta(seconds=50 - n))
    make_transaction(point, start_received_at=now - timedelta(seconds=61))  # outside the minute
    assert (
        services.connector_transaction_loop_check(charge_point=point, connector_id=1, at=now) == 3
    )
    assert Connector.objects.get(connector_id=1).transaction_loop_at is None
    services.transaction_start(
        charge_point=point,
        connector_id=1,
        id_tag="T",
        meter_start=0,
        timestamp=now,
        received_at=now,
    )
    connector = Connector.objects.get(connector_id=1)
    assert (connector.transaction_loop_at, connector.transaction_loop_count) == (now, 4)
    assert "connector 1 started 4 transactions within a minute" in caplog.text


def test_the_loop_flag_is_in_the_dashboards_recent_errors(point):
    from charging.dashboard.selectors import recent_errors

    now = timezone.now()
    Connector.objects.filter(connector_id=1).update(
        transaction_loop_at=now, transaction_loop_count=7
    )
    [error] = recent_errors()
    assert (error["kind"], error["charge_point"], error["at"]) == ("charge-start loop", "CP-1", now)
    assert error["text"] == "connector 1: 7 transactions started within a minute"
