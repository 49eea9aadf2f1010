"""Helpers of the security extension ("Improved security for OCPP 1.6-J"): certificates,
logs, signed firmware, extended triggers, and the rotation of a charge point's HTTP Basic
password (ChangeConfiguration AuthorizationKey, whitepaper §3.1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .. import selectors
from .core import DEFAULT_WAIT, call
from .errors import ChargePointOffline, InvalidCommand, KeyNotChanged
from .payloads import fields


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
    from .. import admission

    key = admission.authorization_key_generate() if key is None else key
    try:
        admission.authorization_key_validate(key)
    except admission.InvalidAuthorizationKey as error:
        raise InvalidCommand(str(error), code="PropertyConstraintViolation") from None
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


def certificate_signed(
    charge_point_id: str,
    *,
    certificate_chain: str,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    """Usually sent by itself after a SignCertificate (charging.middleware.security)."""
    payload = {"certificateChain": certificate_chain}
    return call(charge_point_id, "CertificateSigned", payload, wait=wait, requested_by=requested_by)


def install_certificate(
    charge_point_id: str,
    *,
    certificate_type: str,
    certificate: str,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = {"certificateType": certificate_type, "certificate": certificate}
    return call(
        charge_point_id, "InstallCertificate", payload, wait=wait, requested_by=requested_by
    )


def delete_certificate(
    charge_point_id: str,
    *,
    certificate_hash_data: dict[str, str],
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = {"certificateHashData": certificate_hash_data}
    return call(charge_point_id, "DeleteCertificate", payload, wait=wait, requested_by=requested_by)


def get_installed_certificate_ids(
    charge_point_id: str,
    *,
    certificate_type: str,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = {"certificateType": certificate_type}
    return call(
        charge_point_id, "GetInstalledCertificateIds", payload, wait=wait, requested_by=requested_by
    )


def get_log(
    charge_point_id: str,
    *,
    log_type: str,
    request_id: int,
    remote_location: str,
    oldest_timestamp: datetime | str | None = None,
    latest_timestamp: datetime | str | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    log = fields(
        remoteLocation=remote_location,
        oldestTimestamp=oldest_timestamp,
        latestTimestamp=latest_timestamp,
    )
    payload = fields(
        logType=log_type,
        requestId=request_id,
        log=log,
        retries=retries,
        retryInterval=retry_interval,
    )
    return call(charge_point_id, "GetLog", payload, wait=wait, requested_by=requested_by)


def signed_update_firmware(
    charge_point_id: str,
    *,
    request_id: int,
    location: str,
    retrieve_date_time: datetime | str,
    signing_certificate: str,
    signature: str,
    install_date_time: datetime | str | None = None,
    retries: int | None = None,
    retry_interval: int | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    firmware = fields(
        location=location,
        retrieveDateTime=retrieve_date_time,
        installDateTime=install_date_time,
        signingCertificate=signing_certificate,
        signature=signature,
    )
    payload = fields(
        requestId=request_id, firmware=firmware, retries=retries, retryInterval=retry_interval
    )
    return call(
        charge_point_id, "SignedUpdateFirmware", payload, wait=wait, requested_by=requested_by
    )


def extended_trigger_message(
    charge_point_id: str,
    *,
    requested_message: str,
    connector_id: int | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = fields(requestedMessage=requested_message, connectorId=connector_id)
    return call(
        charge_point_id, "ExtendedTriggerMessage", payload, wait=wait, requested_by=requested_by
    )
