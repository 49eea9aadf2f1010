"""TC_064_CSMS Data Transfer to a Central System (OCTT 1.6 §3.20.1): a vendorId the Central
System does not support is not accepted."""

from __future__ import annotations

from ocpp.v16 import call

from charging.models import Message


def test_tc_064_data_transfer_unknown_vendor(play, operator, cp_id):
    async def case(cp):
        return await cp.send(  # step 1
            call.DataTransfer(vendor_id="org.openchargealliance.octt", message_id="Test", data="x")
        )

    answer = play(case)
    assert answer.status in ("Rejected", "UnknownMessageId", "UnknownVendorId")  # step 2
    assert answer.status == "UnknownVendorId"  # ours, without a DataTransfer middleware of yours
    assert Message.objects.filter(charge_point_id=cp_id, action="DataTransfer").count() == 2
