"""A charge point's HTTP Basic password (security whitepaper §3.1): setting it, and rotating it
on the charger with ChangeConfiguration AuthorizationKey; the admin and the API both go through
`authorization_key_apply`."""

from __future__ import annotations

from .. import admission, selectors
from .core import DEFAULT_WAIT, call
from .errors import ChargePointOffline, InvalidCommand, KeyNotChanged


def authorization_key_apply(
    charge_point_id: str,
    *,
    key: str | None = None,
    rotate: bool = False,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> str:
    """Give the charge point an authorization key and return it (`key=None` generates one).

    `rotate`: the connected charger is sent the key first (`change_authorization_key`, which
    raises as it does). Otherwise the key's hash is stored at once, and an unknown charge point
    is registered, approved (admission.charge_point_provision; ValueError for an id no charger
    could connect with). InvalidCommand: an unusable key.
    """
    key = _usable(admission.authorization_key_generate() if key is None else key)
    if rotate:
        return change_authorization_key(
            charge_point_id, key=key, wait=wait, requested_by=requested_by
        )
    admission.charge_point_provision(charge_point_id=charge_point_id, key=key)
    return key


def _usable(key: str) -> str:
    try:
        return admission.authorization_key_validate(key)
    except admission.InvalidAuthorizationKey as error:
        raise InvalidCommand(str(error), code="PropertyConstraintViolation") from None


def change_authorization_key(
    charge_point_id: str,
    *,
    key: str | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> str:
    """Rotate the charge point's HTTP Basic password (security whitepaper §3.1): send
    ChangeConfiguration AuthorizationKey and return the key once the charger answered Accepted,
    when its hash has been stored (services, on the answer). `key=None` generates one.

    Raises InvalidCommand for an unusable key, KeyNotChanged for any other answer (the old key
    stays valid), and ChargePointOffline, CallTimeout or CallError as `call` does. After a
    timeout the charger's key is unknown: both keys are accepted until it authenticates with
    one of them (admission.authorization_key_hold). A charger that connected
    again with the new key before its answer was processed has changed it: the key is returned.
    """
    key = _usable(admission.authorization_key_generate() if key is None else key)
    try:
        answer = call(
            charge_point_id,
            "ChangeConfiguration",
            {"key": admission.AUTHORIZATION_KEY, "value": key},
            wait=wait,
            requested_by=requested_by,
        )
    except ChargePointOffline as offline:
        # A charger that took the key reconnects with it at once; that connection may end this
        # call `offline` before its answer is processed, and the handshake stored the key
        # (charging.admission): the key changed all the same.
        if offline.call is not None and offline.call.message_id is not None:
            point = selectors.charge_point_get(charge_point_id=charge_point_id)
            if point is not None and admission.authorization_key_check(
                charge_point=point, password=key
            ):
                return key
        raise
    status = str(answer.get("status", ""))
    if status != "Accepted":
        raise KeyNotChanged(
            f"{charge_point_id} answered AuthorizationKey with {status}", status=status
        )
    return key
