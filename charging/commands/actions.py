"""One helper per OCPP 1.6 Central System → Charge Point action of the Core, Firmware
Management, Local Auth List Management, Reservation, Remote Trigger and Smart Charging profiles
(§5), with the spec's fields as snake_case keyword arguments; each goes through `core.call`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .core import DEFAULT_WAIT, call
from .payloads import fields


def remote_start(
    charge_point_id: str,
    *,
    id_tag: str,
    connector_id: int | None = None,
    charging_profile: dict[str, Any] | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = fields(idTag=id_tag, connectorId=connector_id, chargingProfile=charging_profile)
    return call(
        charge_point_id,
        "RemoteStartTransaction",
        payload,
        wait=wait,
        requested_by=requested_by,
    )


def remote_stop(
    charge_point_id: str, *, transaction_id: int, wait: float = DEFAULT_WAIT, requested_by: str = ""
) -> Any:
    return call(
        charge_point_id,
        "RemoteStopTransaction",
        {"transactionId": transaction_id},
        wait=wait,
        requested_by=requested_by,
    )


def reset(
    charge_point_id: str, *, type: str = "Soft", wait: float = DEFAULT_WAIT, requested_by: str = ""
) -> Any:
    return call(charge_point_id, "Reset", {"type": type}, wait=wait, requested_by=requested_by)


def change_availability(
    charge_point_id: str,
    *,
    connector_id: int,
    type: str,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    return call(
        charge_point_id,
        "ChangeAvailability",
        {"connectorId": connector_id, "type": type},
        wait=wait,
        requested_by=requested_by,
    )


def change_configuration(
    charge_point_id: str,
    *,
    key: str,
    value: str,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    return call(
        charge_point_id,
        "ChangeConfiguration",
        {"key": key, "value": value},
        wait=wait,
        requested_by=requested_by,
    )


def get_configuration(
    charge_point_id: str,
    *,
    key: list[str] | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    return call(
        charge_point_id, "GetConfiguration", fields(key=key), wait=wait, requested_by=requested_by
    )


def clear_cache(charge_point_id: str, *, wait: float = DEFAULT_WAIT, requested_by: str = "") -> Any:
    return call(charge_point_id, "ClearCache", {}, wait=wait, requested_by=requested_by)


def unlock_connector(
    charge_point_id: str, *, connector_id: int, wait: float = DEFAULT_WAIT, requested_by: str = ""
) -> Any:
    return call(
        charge_point_id,
        "UnlockConnector",
        {"connectorId": connector_id},
        wait=wait,
        requested_by=requested_by,
    )


def data_transfer(
    charge_point_id: str,
    *,
    vendor_id: str,
    message_id: str | None = None,
    data: str | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = fields(vendorId=vendor_id, messageId=message_id, data=data)
    return call(charge_point_id, "DataTransfer", payload, wait=wait, requested_by=requested_by)


def trigger_message(
    charge_point_id: str,
    *,
    requested_message: str,
    connector_id: int | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = fields(requestedMessage=requested_message, connectorId=connector_id)
    return call(charge_point_id, "TriggerMessage", payload, wait=wait, requested_by=requested_by)


def update_firmware(
    charge_point_id: str,
    *,
    location: str,
    retrieve_date: datetime | str,
    retries: int | None = None,
    retry_interval: int | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = fields(
        location=location,
        retrieveDate=retrieve_date,
        retries=retries,
        retryInterval=retry_interval,
    )
    return call(charge_point_id, "UpdateFirmware", payload, wait=wait, requested_by=requested_by)


def get_diagnostics(
    charge_point_id: str,
    *,
    location: str,
    retries: int | None = None,
    retry_interval: int | None = None,
    start_time: datetime | str | None = None,
    stop_time: datetime | str | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = fields(
        location=location,
        retries=retries,
        retryInterval=retry_interval,
        startTime=start_time,
        stopTime=stop_time,
    )
    return call(charge_point_id, "GetDiagnostics", payload, wait=wait, requested_by=requested_by)


def send_local_list(
    charge_point_id: str,
    *,
    list_version: int,
    update_type: str,
    local_authorization_list: list[dict[str, Any]] | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = fields(
        listVersion=list_version,
        updateType=update_type,
        localAuthorizationList=local_authorization_list,
    )
    return call(charge_point_id, "SendLocalList", payload, wait=wait, requested_by=requested_by)


def get_local_list_version(
    charge_point_id: str, *, wait: float = DEFAULT_WAIT, requested_by: str = ""
) -> Any:
    return call(charge_point_id, "GetLocalListVersion", {}, wait=wait, requested_by=requested_by)


def reserve_now(
    charge_point_id: str,
    *,
    connector_id: int,
    expiry_date: datetime | str,
    id_tag: str,
    reservation_id: int | None = None,
    parent_id_tag: str | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    """Without `reservation_id`, a new reservation's (charging.models.Reservation)."""
    payload = fields(
        connectorId=connector_id,
        expiryDate=expiry_date,
        idTag=id_tag,
        reservationId=reservation_id,
        parentIdTag=parent_id_tag,
    )
    return call(charge_point_id, "ReserveNow", payload, wait=wait, requested_by=requested_by)


def cancel_reservation(
    charge_point_id: str,
    *,
    reservation_id: int,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    return call(
        charge_point_id,
        "CancelReservation",
        {"reservationId": reservation_id},
        wait=wait,
        requested_by=requested_by,
    )


def set_charging_profile(
    charge_point_id: str,
    *,
    connector_id: int,
    cs_charging_profiles: dict[str, Any],
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    return call(
        charge_point_id,
        "SetChargingProfile",
        {"connectorId": connector_id, "csChargingProfiles": cs_charging_profiles},
        wait=wait,
        requested_by=requested_by,
    )


def clear_charging_profile(
    charge_point_id: str,
    *,
    id: int | None = None,
    connector_id: int | None = None,
    charging_profile_purpose: str | None = None,
    stack_level: int | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = fields(
        id=id,
        connectorId=connector_id,
        chargingProfilePurpose=charging_profile_purpose,
        stackLevel=stack_level,
    )
    return call(
        charge_point_id, "ClearChargingProfile", payload, wait=wait, requested_by=requested_by
    )


def get_composite_schedule(
    charge_point_id: str,
    *,
    connector_id: int,
    duration: int,
    charging_rate_unit: str | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = fields(
        connectorId=connector_id, duration=duration, chargingRateUnit=charging_rate_unit
    )
    return call(
        charge_point_id, "GetCompositeSchedule", payload, wait=wait, requested_by=requested_by
    )
