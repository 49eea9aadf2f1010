"""TC_085_CSMS Basic Authentication - Valid username/password combination (OCTT 1.6 §3.21,
security profile 1): a gateway checking HTTP Basic at the handshake (`--authorize`) upgrades the
charge point that presents its authorization key."""

from __future__ import annotations

from charging.models import ChargePoint, ConnectionEvent

KEY = "4F43415F4F4354545F61646D696E5F74657374"  # the OCTT's test password


def test_tc_085_basic_auth_valid_credentials(play, operator, authorizing_gateway, cp_id):
    response = operator.authorization_key(cp_id, key=KEY)
    assert response.status_code == 201, response.data  # registered, with its key

    async def case(cp):  # steps 1-2: the upgrade, with the key
        await cp.booted()  # steps 3-6: BootNotification Accepted, StatusNotifications

    play(case, boot=False, port=authorizing_gateway, password=KEY)
    point = ChargePoint.objects.get(pk=cp_id)
    assert point.registration_status == "Accepted" and point.authorization_key
    assert not ConnectionEvent.objects.filter(charge_point=point, kind="refused").exists()
