"""OCPP 1.6 action names and OCPP-J message type ids, spelled as users configure them."""

from enum import Enum, IntEnum

from ocpp.v16.enums import Action as _OcppAction

# The `ocpp` package spells members snake_case (`Action.boot_notification`); users of the seed
# app write `Action.BootNotification`. Both are `str` enums over the same wire names, so either
# works as a key in OCPP_MIDDLEWARE.
Action = Enum("Action", {member.value: member.value for member in _OcppAction}, type=str)
Action.__doc__ = "Every OCPP 1.6 action (core, profiles and security extension), by wire name."
Action.__str__ = lambda self: self.value  # type: ignore[method-assign]


class MessageType(IntEnum):
    """OCPP-J message type ids (OCPP-J 1.6 §4.1.3)."""

    call = 2
    call_result = 3
    call_error = 4


# Actions a charge point sends to the central system (OCPP 1.6 §4 and the security whitepaper).
CHARGE_POINT_ACTIONS: frozenset[str] = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
        "LogStatusNotification",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
    }
)

ALL_ACTIONS: frozenset[str] = frozenset(member.value for member in Action)


def action_name(action: object) -> str:
    """The wire name of an action given as our enum, the `ocpp` package's enum or a string."""
    value = getattr(action, "value", action)
    if not isinstance(value, str) or value not in ALL_ACTIONS:
        raise ValueError(f"not an OCPP 1.6 action: {action!r}")
    return value
