"""charging.protocol.identity: the one rule for charge point ids, as the gateway applies it."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import quote

import pytest

from charging.protocol.identity import (
    MAX_CHARGE_POINT_ID_LENGTH,
    InvalidChargePointId,
    charge_point_id_check,
)
from gateway.paths import BadPath, charge_point_id

GOOD = ["CP-1", "CP.1.2", "Zähler", "x" * MAX_CHARGE_POINT_ID_LENGTH, "a:b@c"]
BAD = ["", "x" * (MAX_CHARGE_POINT_ID_LENGTH + 1), "a/b", "a b", "a\tb", "a\x00b", "a\u2028b"]


@pytest.mark.parametrize("value", GOOD)
def test_ids_a_charger_can_connect_with_are_kept(value):
    assert charge_point_id_check(value) == value
    assert charge_point_id(f"/ocpp/{quote(value)}") == value


@pytest.mark.parametrize("value", BAD)
def test_other_ids_are_refused_and_the_gateway_refuses_them_alike(value):
    with pytest.raises(InvalidChargePointId) as refused:
        charge_point_id_check(value)
    assert isinstance(refused.value, ValueError)
    with pytest.raises(BadPath) as bad_path:
        charge_point_id(f"/ocpp/{quote(value, safe='')}")
    assert bad_path.value.status == HTTPStatus.BAD_REQUEST
    if value:  # an empty id is a missing one at the gateway
        assert bad_path.value.message == str(refused.value)


def test_a_non_string_is_refused():
    with pytest.raises(InvalidChargePointId):
        charge_point_id_check(48)
