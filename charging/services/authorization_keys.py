"""The rotation of a charge point's HTTP Basic password through ChangeConfiguration
AuthorizationKey (security whitepaper §3.1): what its call does when it ends, is answered, and is
redacted; the key itself lives in charging.admission."""

from __future__ import annotations

from typing import Any

from ..admission import (
    AUTHORIZATION_KEY,
    authorization_key_change_answered,
    authorization_key_hold,
)
from ..models import OutboundCall, OutboundCallStatus

REDACTED = "<redacted>"
# Outcomes decided without the charger: it may have taken the key all the same.
_UNANSWERED = (OutboundCallStatus.TIMEOUT, OutboundCallStatus.OFFLINE)


def authorization_key_in(payload: Any) -> bool:
    """Whether a ChangeConfiguration payload sets the AuthorizationKey (write-only, secret)."""
    return (
        isinstance(payload, dict)
        and str(payload.get("key", "")).lower() == AUTHORIZATION_KEY.lower()
    )


def authorization_key_redacted(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The payload kept once the call ended: the key in clear only until then."""
    if not authorization_key_in(payload):
        return None
    return {**payload, "value": REDACTED}


def authorization_key_call_ended(*, call: OutboundCall) -> None:
    """Handed over, never answered: the charger may hold the new key (or answer later), so both
    keys are accepted until it next authenticates (admission.authorization_key_hold)."""
    key = str(call.payload.get("value", ""))
    if call.status in _UNANSWERED and call.message_id is not None and key != REDACTED:
        authorization_key_hold(charge_point=call.charge_point, key=key)


def authorization_key_answered(*, call: OutboundCall, response: dict[str, Any]) -> None:
    """Only a charger that took the new key at once uses it from its next handshake on."""
    key = str(call.payload["value"])
    authorization_key_change_answered(
        charge_point=call.charge_point,
        key=None if key == REDACTED else key,
        accepted=response.get("status") == "Accepted",
    )
