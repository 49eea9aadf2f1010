"""One thin helper per Central System → Charge Point action, generated from the `ocpp` package's
`v16.call` dataclasses: `reset(cp, type="Hard")` is `call(cp, call.Reset(type="Hard"))`, the
dataclass's snake_case fields as keyword arguments, plus `wait=` and `requested_by=`. A field
that the action's registry entry fills in when left out (reservationId, requestId) may be left
out here too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ocpp.charge_point import camel_to_snake_case
from ocpp.v16 import call as ocpp_call

from .. import services
from .core import DEFAULT_WAIT, call

Helper = Callable[..., dict[str, Any]]
# Defaults the helpers kept from before they were generated; the dataclass sends an empty
# localAuthorizationList by default, the helper none (OCPP 1.6 §6.43: optional).
_DEFAULTS: dict[str, dict[str, Any]] = {
    "Reset": {"type": "Soft"},
    "SendLocalList": {"local_authorization_list": None},
}


def helper(action: str, name: str | None = None) -> Helper:
    """The helper of `action` (an `ocpp.v16.call` class name)."""
    request_class = getattr(ocpp_call, action)
    allocates = services.action_spec(action).start.allocates
    defaults = dict(_DEFAULTS.get(action, {}))
    if allocates is not None:
        defaults.update(camel_to_snake_case({allocates: None}))

    def send_and_wait(
        charge_point_id: str,
        *,
        wait: float = DEFAULT_WAIT,
        requested_by: str = "",
        **fields: Any,
    ) -> dict[str, Any]:
        request = request_class(**{**defaults, **fields})
        return call(charge_point_id, request, wait=wait, requested_by=requested_by)

    snake = "_".join(camel_to_snake_case({action: None}))
    send_and_wait.__name__ = send_and_wait.__qualname__ = name or snake
    send_and_wait.__doc__ = (
        f"`call(charge_point_id, ocpp.v16.call.{action}(**fields), wait=, requested_by=)`: "
        "the charger's answer."
    )
    return send_and_wait


# Core, Firmware Management, Local Auth List Management, Reservation, Remote Trigger and Smart
# Charging profiles (OCPP 1.6 §5).
remote_start = helper("RemoteStartTransaction", "remote_start")
remote_stop = helper("RemoteStopTransaction", "remote_stop")
reset = helper("Reset")
change_availability = helper("ChangeAvailability")
change_configuration = helper("ChangeConfiguration")
get_configuration = helper("GetConfiguration")
clear_cache = helper("ClearCache")
unlock_connector = helper("UnlockConnector")
data_transfer = helper("DataTransfer")
trigger_message = helper("TriggerMessage")
update_firmware = helper("UpdateFirmware")
get_diagnostics = helper("GetDiagnostics")
send_local_list = helper("SendLocalList")
get_local_list_version = helper("GetLocalListVersion")
reserve_now = helper("ReserveNow")
cancel_reservation = helper("CancelReservation")
set_charging_profile = helper("SetChargingProfile")
clear_charging_profile = helper("ClearChargingProfile")
get_composite_schedule = helper("GetCompositeSchedule")
# The security extension ("Improved security for OCPP 1.6-J").
certificate_signed = helper("CertificateSigned")
install_certificate = helper("InstallCertificate")
delete_certificate = helper("DeleteCertificate")
get_installed_certificate_ids = helper("GetInstalledCertificateIds")
get_log = helper("GetLog")
signed_update_firmware = helper("SignedUpdateFirmware")
extended_trigger_message = helper("ExtendedTriggerMessage")
