"""What a charge point id may be: the last segment of the websocket URL a charger connects to."""

from __future__ import annotations

# The id is the primary key of ChargePoint (charging.models): a longer one could not be stored.
MAX_CHARGE_POINT_ID_LENGTH = 48


class InvalidChargePointId(ValueError):
    """No charger could connect with this id."""


def charge_point_id_check(value: object) -> str:
    """`value`, when a charger could connect with it (1 to 48 characters; no '/', white space or
    control characters); InvalidChargePointId saying why otherwise. The gateway, the admin and
    the API all decide with this."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_CHARGE_POINT_ID_LENGTH:
        raise InvalidChargePointId(
            f"Charge point id must be 1-{MAX_CHARGE_POINT_ID_LENGTH} characters"
        )
    if "/" in value or any(char.isspace() or not char.isprintable() for char in value):
        raise InvalidChargePointId(
            "Charge point id must not contain '/', spaces or control characters"
        )
    return value
