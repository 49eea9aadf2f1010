"""Reservations: allocation, what the charger's answers and its StartTransaction make of them,
expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from charging import commands, services
from charging.models import OutboundCall, Reservation
from tests.factories import CHARGER_TIME, make_charge_point

pytestmark = pytest.mark.django_db

LATER = "2030-01-01T00:00:00Z"


def _answered(charge_point, action, payload, response) -> OutboundCall:
    call = services.outbound_call_create(charge_point=charge_point, action=action, payload=payload)
    services.outbound_call_complete(call=call, status="answered", response=response)
    return call


def test_a_reserve_now_without_id_gets_a_new_reservation_skipping_ids_taken():
    cp = make_charge_point("CP-1")
    # A ReserveNow sent with an id of its own (the API allows it), answered: id 2 is taken.
    _answered(
        cp,
        "ReserveNow",
        {"connectorId": 1, "expiryDate": LATER, "idTag": "T", "reservationId": 2},
        {"status": "Accepted"},
    )
    ids = []
    for _ in range(3):
        call = commands.send(
            "CP-1", "ReserveNow", {"connectorId": 0, "expiryDate": LATER, "idTag": "A"}
        )
        reservation = Reservation.objects.get(pk=call.payload["reservationId"])
        assert (reservation.status, reservation.call, reservation.connector_id) == (
            "Requested",
            call,
            0,
        )
        ids.append(reservation.pk)
    assert len(set(ids)) == 3 and 2 not in ids


@pytest.mark.parametrize("status", ["Accepted", "Occupied", "Faulted", "Rejected", "Unavailable"])
def test_the_answer_sets_the_status_and_creates_an_unknown_reservation(status):
    cp = make_charge_point("CP-1")
    payload = {
        "connectorId": 2,
        "expiryDate": LATER,
        "idTag": "T",
        "parentIdTag": "P",
        "reservationId": 40,
    }
    call = _answered(cp, "ReserveNow", payload, {"status": status})
    reservation = Reservation.objects.get(pk=40)
    assert (reservation.status, reservation.call, reservation.parent_id_tag) == (status, call, "P")
    assert reservation.expiry_date.year == 2030


def test_another_charge_points_reservation_is_left_alone():
    other = make_charge_point("CP-2")
    services.reservation_create(
        charge_point=other, connector_id=1, id_tag="X", expiry_date=timezone.now()
    )
    taken = Reservation.objects.get()
    payload = {"connectorId": 1, "expiryDate": LATER, "idTag": "T", "reservationId": taken.pk}
    _answered(make_charge_point("CP-1"), "ReserveNow", payload, {"status": "Accepted"})
    taken.refresh_from_db()
    assert (taken.charge_point_id, taken.id_tag, taken.status) == ("CP-2", "X", "Requested")


def test_cancel_accepted_cancels_and_rejected_changes_nothing():
    cp = make_charge_point("CP-1")
    payload = {"connectorId": 1, "expiryDate": LATER, "idTag": "T", "reservationId": 5}
    _answered(cp, "ReserveNow", payload, {"status": "Accepted"})
    _answered(cp, "CancelReservation", {"reservationId": 5}, {"status": "Rejected"})
    assert Reservation.objects.get(pk=5).status == "Accepted"
    _answered(cp, "CancelReservation", {"reservationId": 5}, {"status": "Accepted"})
    assert Reservation.objects.get(pk=5).status == "Cancelled"


def test_a_start_transaction_with_the_reservation_id_uses_it_once():
    cp = make_charge_point("CP-1")
    payload = {"connectorId": 1, "expiryDate": LATER, "idTag": "T", "reservationId": 7}
    _answered(cp, "ReserveNow", payload, {"status": "Accepted"})
    start = {
        "charge_point": cp,
        "connector_id": 1,
        "id_tag": "T",
        "meter_start": 0,
        "timestamp": CHARGER_TIME,
        "reservation_id": 7,
    }
    transaction = services.transaction_start(**start)
    assert services.transaction_start(**start) == transaction  # the charger's retry
    reservation = Reservation.objects.get(pk=7)
    assert (reservation.status, reservation.transaction) == ("Used", transaction)
    # An unknown reservation id is recorded on the transaction and changes nothing else.
    services.transaction_start(**{**start, "meter_start": 5, "reservation_id": 99})
    assert Reservation.objects.count() == 1


def test_reservations_past_their_expiry_expire():
    cp = make_charge_point("CP-1")
    now = timezone.now()
    due = services.reservation_create(
        charge_point=cp, connector_id=1, id_tag="T", expiry_date=now - timedelta(minutes=1)
    )
    future = services.reservation_create(
        charge_point=cp, connector_id=1, id_tag="T", expiry_date=now + timedelta(minutes=1)
    )
    used = services.reservation_create(
        charge_point=cp, connector_id=1, id_tag="T", expiry_date=now - timedelta(minutes=1)
    )
    Reservation.objects.filter(pk=used.pk).update(status="Used")
    assert services.reservation_expire_due(now=now) == 1
    status = dict(Reservation.objects.values_list("pk", "status"))
    assert (status[due.pk], status[future.pk], status[used.pk]) == ("Expired", "Requested", "Used")
