"""TC_053_CSMS Use a reserved Connector with parentIdTag (OCTT 1.6 §3.16): a reservation for
an idTag and a parentIdTag; another card of the same parent is authorized with that
parentIdTag and stops the transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from charging.models import Reservation, Transaction

from .harness import CONNECTOR, VALID_ID_TAG

PARENT = "OCTT-PARENT"
OTHER_CARD = "OCTT-CHILD"  # a new idTag of the same parent


def test_tc_053_use_a_reserved_connector_with_parent_id_tag(play, operator, cp_id):
    operator.id_tag(PARENT, status="Accepted")
    operator.id_tag(OTHER_CARD, status="Accepted", parent=PARENT)
    # The tool's valid idTag belongs to the same parent (the case's <Configured ParentIdTag>).
    edited = operator.client.patch(
        f"/api/v1/id-tags/{VALID_ID_TAG}/", {"parent": PARENT}, format="json"
    )
    assert edited.status_code == 200, edited.data

    async def case(cp):
        expiry = datetime.now(UTC) + timedelta(hours=1)
        reservation_id = await operator.reserve(
            cp, expiry=expiry, parentIdTag=PARENT
        )  # steps 1-2 (connector ≠ 0)
        await cp.status(CONNECTOR, "Reserved")  # steps 3-4
        transaction_id = await cp.charging(reservation_id=reservation_id)  # step 5
        info = await cp.authorize(OTHER_CARD)  # steps 6-7
        assert info == {"status": "Accepted", "parent_id_tag": PARENT}
        await cp.stop(transaction_id, "Local", id_tag=OTHER_CARD)  # steps 8-9
        await cp.status(CONNECTOR, "Finishing")  # steps 10-11
        return reservation_id, transaction_id

    reservation_id, transaction_id = play(case)
    reservation = Reservation.objects.get(pk=reservation_id)
    assert (reservation.parent_id_tag, reservation.status) == (PARENT, "Used")
    transaction = Transaction.objects.get(pk=transaction_id)
    assert (transaction.stop_id_tag, transaction.stop_reason) == (OTHER_CARD, "Local")
