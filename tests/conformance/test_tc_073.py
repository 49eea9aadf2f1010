"""TC_073_CSMS Update Charge Point Password for HTTP Basic Authentication (OCTT 1.6 §3.21.1):
the operator sets a new key through the API with `rotate`, which sends ChangeConfiguration
AuthorizationKey; the charge point answers Accepted and at once reconnects with the new key, as
the tool does (without waiting for anything of ours), and the old key is refused from then on."""

from __future__ import annotations

import asyncio

import pytest
from websockets.exceptions import InvalidStatus

from charging import admission
from charging.models import ChargePoint
from tests.e2e.harness import in_thread

from .test_tc_085 import KEY

NEW_KEY = "0123456789abcdef0123456789abcdef01234567"


def test_tc_073_update_basic_auth_password(play, operator, authorizing_gateway, cp_id):
    assert operator.authorization_key(cp_id, key=KEY).status_code == 201

    async def case(cp):
        # [Manual Action: Change the basic authentication password.]
        rotate = asyncio.ensure_future(
            in_thread(operator.authorization_key, cp_id, key=NEW_KEY, rotate=True)
        )
        received = await cp.expect("ChangeConfiguration")  # step 1
        assert received.payload == {"key": "AuthorizationKey", "value": NEW_KEY}
        # Step 2 answered Accepted (the charger's default); step 3: it reconnects with the new
        # password straight away.
        await cp.answered(received)
        await cp.disconnect()
        async with cp.reconnect(password=NEW_KEY) as again:
            assert (await again.boot()).status == "Accepted"
        response = await rotate
        assert response.status_code == 200, response.data
        assert response.data == {"charge_point": cp_id, "has_authorization_key": True}
        with pytest.raises(InvalidStatus) as refused:
            async with cp.reconnect(password=KEY):
                pass
        assert refused.value.response.status_code == 401

    play(case, port=authorizing_gateway, password=KEY)
    point = ChargePoint.objects.get(pk=cp_id)
    assert admission.authorization_key_check(charge_point=point, password=NEW_KEY)
