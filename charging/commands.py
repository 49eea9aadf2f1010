"""Commands to charge points: the public Python API (docs/commands.md).

`send` validates and records an OutboundCall and enqueues the `levity.send_call` task after
commit; `wait` blocks the caller's own process (never a worker) until the call ends, on Redis
or the database, bounded; `call` does both and returns the charger's answer or raises. One
helper per OCPP 1.6 Central System → Charge Point action, with the spec's fields as snake_case
keyword arguments.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from . import outcomes, selectors, services
from .clock import format_ocpp_time, parse_charger_time
from .models import (
    ChargePoint,
    ChargerJob,
    ChargingProfile,
    OutboundCall,
    OutboundCallStatus,
    Reservation,
)
from .protocol import MessageType, OCPPError, action_name
from .protocol import envelope as wire
from .protocol.enums import ALL_ACTIONS, CHARGE_POINT_ACTIONS
from .protocol.validation import validate_payload

__all__ = [
    "signed_update_firmware",
    "install_certificate",
    "get_log",
    "get_installed_certificate_ids",
    "extended_trigger_message",
    "delete_certificate",
    "certificate_signed",
    "CENTRAL_SYSTEM_ACTIONS",
    "CallError",
    "CallTimeout",
    "ChargePointOffline",
    "CommandError",
    "InvalidCommand",
    "KeyNotChanged",
    "call",
    "cancel_reservation",
    "change_authorization_key",
    "change_availability",
    "change_configuration",
    "clear_cache",
    "clear_charging_profile",
    "data_transfer",
    "get_composite_schedule",
    "get_configuration",
    "get_diagnostics",
    "get_local_list_version",
    "remote_start",
    "remote_stop",
    "reserve_now",
    "reset",
    "send",
    "send_local_list",
    "set_charging_profile",
    "sync_local_list",
    "LocalListSync",
    "trigger_message",
    "unlock_connector",
    "update_firmware",
    "wait",
]

# Actions the central system sends (OCPP 1.6 §5 and the security whitepaper); DataTransfer
# goes both ways.
CENTRAL_SYSTEM_ACTIONS: frozenset[str] = (ALL_ACTIONS - CHARGE_POINT_ACTIONS) | {"DataTransfer"}

DEFAULT_WAIT = 30.0
_POLL_FIRST = 0.02
_POLL_MAX = 0.5
_REDIS_SLICE = 2.0  # seconds per BLPOP, so a lost wake-up costs at most this


class CommandError(Exception):
    """A command failed; `.call` is its OutboundCall when one was recorded."""

    def __init__(self, message: str, *, call: OutboundCall | None = None) -> None:
        super().__init__(message)
        self.call = call


class InvalidCommand(CommandError):
    """Refused before sending: unknown or charger-side action, or a payload its 1.6 schema
    rejects. `.code` is the OCPP error code, `.details` says why. Nothing was recorded."""

    def __init__(self, message: str, *, code: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = details or {}


class ChargePointOffline(CommandError):
    """The charge point is unknown, not connected, or its connection went away before it
    answered."""


class CallTimeout(CommandError):
    """No answer within the call's timeout (or within the caller's wait)."""


class KeyNotChanged(CommandError):
    """The charger answered ChangeConfiguration AuthorizationKey with something other than
    Accepted (`.status`: Rejected, RebootRequired, NotSupported); the stored key is unchanged."""

    def __init__(self, message: str, *, status: str, call: OutboundCall | None = None) -> None:
        super().__init__(message, call=call)
        self.status = status


class CallError(CommandError):
    """The charger answered CALLERROR (or a CALLRESULT its schema rejects)."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        description: str = "",
        details: Any = None,
        call: OutboundCall | None = None,
    ) -> None:
        super().__init__(message, call=call)
        self.code = code
        self.description = description
        self.details = details


# --- the generic API ---------------------------------------------------------------------


def send(
    charge_point_id: str, action: Any, payload: dict[str, Any], *, requested_by: str = ""
) -> OutboundCall:
    """Validate, record and enqueue a CALL; returns the queued OutboundCall at once.

    The `levity.send_call` task is enqueued after the surrounding transaction commits (at once
    outside one). Raises InvalidCommand (nothing recorded), or ChargePointOffline when the
    charge point is unknown or not connected (a known one gets an `offline` row).
    """
    try:
        action = action_name(action)
    except ValueError:
        raise InvalidCommand(
            f"not an OCPP 1.6 action: {action!r}",
            code="NotImplemented",
            details={"cause": f"unknown action {action!r}"},
        ) from None
    if action not in CENTRAL_SYSTEM_ACTIONS:
        raise InvalidCommand(
            f"{action} is sent by charge points, not to them",
            code="NotSupported",
            details={"cause": f"{action} is not a Central System → Charge Point action"},
        )
    if not isinstance(payload, dict):
        raise InvalidCommand(
            f"{action} payload must be an object",
            code="FormationViolation",
            details={"cause": f"payload is {type(payload).__name__}, not an object"},
        )
    # A ReserveNow without reservationId gets a new reservation's, a GetLog or
    # SignedUpdateFirmware without requestId a new job's (charging.services).
    id_field = ALLOCATED_IDS.get(action)
    allocate = id_field is not None and id_field not in payload
    checked = {**payload, id_field: 0} if allocate else payload
    # A charging profile without chargingProfileId gets the charge point's next one.
    profile = services.charging_profile_in(action=action, payload=payload)
    if profile is not None and "chargingProfileId" not in profile:
        checked = services.charging_profile_with_id(
            action=action, payload=checked, charging_profile_id=0
        )
    try:
        validate_payload(MessageType.call, action, checked)
    except OCPPError as error:
        cause = error.details.get("cause", error.description)
        raise InvalidCommand(
            f"invalid {action}: {cause}", code=error.code, details=error.details
        ) from None
    refusal = services.charging_profile_refusal(action=action, payload=payload)
    if refusal is not None:
        raise InvalidCommand(
            f"invalid {action}: {refusal}",
            code="PropertyConstraintViolation",
            details={"cause": f"{refusal} (OCPP 1.6 §3.13.1, §5.11)"},
        )

    charge_point = selectors.charge_point_get(charge_point_id=charge_point_id)
    if charge_point is None:
        raise ChargePointOffline(f"unknown charge point {charge_point_id!r}")
    if not charge_point.connected:
        offline = services.outbound_call_create(
            charge_point=charge_point,
            action=action,
            payload=payload,
            requested_by=requested_by,
            status=OutboundCallStatus.OFFLINE,
            error_description="the charge point is not connected",
        )
        raise ChargePointOffline(f"{charge_point_id} is not connected", call=offline)

    task_id = str(uuid.uuid4())
    with transaction.atomic():
        # What the call starts (a reservation, a job), made first when the call needs its id.
        started = _started_by(charge_point, action, payload, allocate=allocate)
        if allocate and started is not None:
            payload = {**payload, ALLOCATED_IDS[action]: started.pk}
        sets_profile = isinstance(started, ChargingProfile)
        if sets_profile:
            payload = services.charging_profile_with_id(
                action=action, payload=payload, charging_profile_id=started.charging_profile_id
            )
        outbound = services.outbound_call_create(
            charge_point=charge_point,
            action=action,
            payload=payload,
            requested_by=requested_by,
            task_id=task_id,
            # Its profile is Rejected or Unconfirmed when it ends without an answer.
            callback=services.CHARGING_PROFILE_CALLBACK if sets_profile else "",
        )
        if started is not None:
            if allocate and isinstance(started, ChargerJob):
                started.request_id = started.pk
            started.call = outbound
            started.save()
        call_id = outbound.pk
        transaction.on_commit(lambda: _enqueue(call_id, charge_point.id, task_id))
    return outbound


# Actions whose id we choose when the caller leaves it out: the new row's primary key.
ALLOCATED_IDS = {
    "ReserveNow": "reservationId",
    "GetLog": "requestId",
    "SignedUpdateFirmware": "requestId",
}


def _started_by(
    charge_point: ChargePoint, action: str, payload: dict[str, Any], *, allocate: bool
) -> Reservation | ChargerJob | ChargingProfile | None:
    if action in services.JOB_REQUESTS:
        return services.job_create(charge_point=charge_point, action=action, payload=payload)
    if services.charging_profile_in(action=action, payload=payload) is not None:
        return services.charging_profile_request(
            charge_point=charge_point, action=action, payload=payload
        )
    if action == "ReserveNow" and allocate:
        return _new_reservation(charge_point, payload)
    return None


def _new_reservation(charge_point: ChargePoint, payload: dict[str, Any]) -> Reservation:
    expiry = parse_charger_time(payload["expiryDate"])
    if expiry is None:
        raise InvalidCommand(
            f"invalid ReserveNow: expiryDate {payload['expiryDate']!r} is not a time",
            code="PropertyConstraintViolation",
            details={"cause": "expiryDate is not a time"},
        )
    return services.reservation_create(
        charge_point=charge_point,
        connector_id=payload["connectorId"],
        id_tag=payload["idTag"],
        parent_id_tag=payload.get("parentIdTag") or "",
        expiry_date=expiry,
    )


def _enqueue(call_id: int, charge_point_id: str, task_id: str) -> None:
    from celery import current_app

    if wire.SEND_CALL_TASK not in current_app.tasks:
        # Outside a worker the task modules (`app.conf.imports`) are not loaded yet; eager mode
        # (embedded) needs the task itself, not just its name.
        current_app.loader.import_default_modules()
    # By name, so this app never imports `tasks` (imports flow tasks → charging).
    current_app.signature(wire.SEND_CALL_TASK, args=(call_id,)).apply_async(
        task_id=task_id,
        # The ordered route workers consume (`cp.*`), keyed like the charge point's events.
        routing_key=wire.routing_key(charge_point_id),
    )


def wait(call: OutboundCall, timeout: float) -> OutboundCall:
    """Wait up to `timeout` seconds, in this process, for `call` to end; returns it refreshed,
    ended or not. Sleeps on Redis (BLPOP on the call's wake-up key) when REDIS_URL is set and
    reachable, else polls the database. A call that should have ended long ago (its gateway
    died, say) is ended `timeout` here."""
    deadline = time.monotonic() + max(timeout, 0.0)
    poll = _POLL_FIRST
    while True:
        call.refresh_from_db()
        remaining = deadline - time.monotonic()
        if not call.is_pending or remaining <= 0:
            break
        woken = outcomes.wait_for_wake(call.unique_id, min(remaining, _REDIS_SLICE))
        if woken is None:  # no Redis: poll the database, backing off
            time.sleep(min(poll, max(remaining, 0.0)))
            poll = min(poll * 2, _POLL_MAX)
    if call.is_pending and selectors.outbound_call_is_stale(call=call):
        services.outbound_call_expire_stale(charge_point=call.charge_point)
        call.refresh_from_db()
    return call


_wait = wait  # `call` has a parameter named `wait`


def call(
    charge_point_id: str,
    action: Any,
    payload: dict[str, Any],
    *,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    """Send a CALL and wait for its answer: returns the charger's CALLRESULT payload, or
    raises InvalidCommand, ChargePointOffline, CallError or CallTimeout. With `wait=0`
    returns the queued OutboundCall instead."""
    outbound = send(charge_point_id, action, payload, requested_by=requested_by)
    if not wait:
        return outbound
    return result(_wait(outbound, wait))


def result(call: OutboundCall) -> dict[str, Any]:
    """The answer of an ended call, or the CommandError saying why there is none."""
    if call.status == OutboundCallStatus.ANSWERED:
        return call.response or {}
    if call.status == OutboundCallStatus.CALL_ERROR:
        raise CallError(
            f"{call.charge_point_id} answered {call.action} with {call.error_code}: "
            f"{call.error_description}",
            code=call.error_code,
            description=call.error_description,
            details=call.response,
            call=call,
        )
    if call.status == OutboundCallStatus.OFFLINE:
        raise ChargePointOffline(
            f"{call.charge_point_id} went offline before answering {call.action}", call=call
        )
    if call.status == OutboundCallStatus.TIMEOUT:
        raise CallTimeout(
            f"{call.charge_point_id} did not answer {call.action} within {call.timeout:g} s",
            call=call,
        )
    raise CallTimeout(f"{call.action} to {call.charge_point_id} is still {call.status}", call=call)


# --- one helper per Central System → Charge Point action (OCPP 1.6 §5) --------------------


def _fields(**fields: Any) -> dict[str, Any]:
    """A payload of the given fields, without the omitted (None) ones."""
    return {name: value for name, value in fields.items() if value is not None}


def _time(value: datetime | str) -> str:
    """OCPP time for a datetime (a naive one is taken as UTC); a string is sent as given."""
    if isinstance(value, datetime):
        return format_ocpp_time(value if timezone.is_aware(value) else value.replace(tzinfo=UTC))
    return value


def remote_start(
    charge_point_id: str,
    *,
    id_tag: str,
    connector_id: int | None = None,
    charging_profile: dict[str, Any] | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = _fields(idTag=id_tag, connectorId=connector_id, chargingProfile=charging_profile)
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
    timeout the charger's key is unknown: it keeps the old hash here. A charger that connected
    again with the new key before its answer was processed has changed it: the key is returned.
    """
    from . import admission

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


def get_configuration(
    charge_point_id: str,
    *,
    key: list[str] | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    return call(
        charge_point_id, "GetConfiguration", _fields(key=key), wait=wait, requested_by=requested_by
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
    payload = _fields(vendorId=vendor_id, messageId=message_id, data=data)
    return call(charge_point_id, "DataTransfer", payload, wait=wait, requested_by=requested_by)


def trigger_message(
    charge_point_id: str,
    *,
    requested_message: str,
    connector_id: int | None = None,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> Any:
    payload = _fields(requestedMessage=requested_message, connectorId=connector_id)
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
    payload = _fields(
        location=location,
        retrieveDate=_time(retrieve_date),
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
    payload = _fields(
        location=location,
        retries=retries,
        retryInterval=retry_interval,
        startTime=None if start_time is None else _time(start_time),
        stopTime=None if stop_time is None else _time(stop_time),
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
    payload = _fields(
        listVersion=list_version,
        updateType=update_type,
        localAuthorizationList=local_authorization_list,
    )
    return call(charge_point_id, "SendLocalList", payload, wait=wait, requested_by=requested_by)


def get_local_list_version(
    charge_point_id: str, *, wait: float = DEFAULT_WAIT, requested_by: str = ""
) -> Any:
    return call(charge_point_id, "GetLocalListVersion", {}, wait=wait, requested_by=requested_by)


@dataclass(frozen=True)
class LocalListSync:
    """What `sync_local_list` did: the list version the charger was sent (or already had),
    the update type (None: it was up to date, nothing sent), how many entries, its answer."""

    version: int | None
    update_type: str | None
    entries: int
    response: dict[str, Any] | None


def sync_local_list(
    charge_point_id: str,
    *,
    full: bool = False,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> LocalListSync:
    """Bring the charger's local authorization list up to date with the id tags: the changes
    since the version it last reported (GetLocalListVersion, or its last accepted SendLocalList),
    the whole list when that is unknown, when `full`, or when it answers VersionMismatch."""
    charge_point = selectors.charge_point_get(charge_point_id=charge_point_id)
    if charge_point is None:
        raise ChargePointOffline(f"unknown charge point {charge_point_id!r}")
    update = services.local_list_update(since=None if full else charge_point.local_list_version)
    if update is None:
        return LocalListSync(charge_point.local_list_version, None, 0, None)
    most = selectors.configuration_key_int(charge_point=charge_point, key="SendLocalListMaxLength")
    if most is not None and len(update.entries) > most:
        raise InvalidCommand(
            f"{len(update.entries)} entries, more than the charger's SendLocalListMaxLength "
            f"{most}: not sent",
            code="OccurenceConstraintViolation",
            details={"cause": "local list longer than SendLocalListMaxLength"},
        )
    response = call(
        charge_point_id, "SendLocalList", update.payload(), wait=wait, requested_by=requested_by
    )
    if response.get("status") == "VersionMismatch" and update.update_type != "Full":
        update = services.local_list_update(since=None)
        response = call(
            charge_point_id, "SendLocalList", update.payload(), wait=wait, requested_by=requested_by
        )
    return LocalListSync(update.version, update.update_type, len(update.entries), response)


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
    payload = _fields(
        connectorId=connector_id,
        expiryDate=_time(expiry_date),
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
    payload = _fields(
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
    payload = _fields(
        connectorId=connector_id, duration=duration, chargingRateUnit=charging_rate_unit
    )
    return call(
        charge_point_id, "GetCompositeSchedule", payload, wait=wait, requested_by=requested_by
    )


# --- security extension ("Improved security for OCPP 1.6-J") -----------------------------------


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
    log = _fields(
        remoteLocation=remote_location,
        oldestTimestamp=_time(oldest_timestamp) if oldest_timestamp is not None else None,
        latestTimestamp=_time(latest_timestamp) if latest_timestamp is not None else None,
    )
    payload = _fields(
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
    firmware = _fields(
        location=location,
        retrieveDateTime=_time(retrieve_date_time),
        installDateTime=_time(install_date_time) if install_date_time is not None else None,
        signingCertificate=signing_certificate,
        signature=signature,
    )
    payload = _fields(
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
    payload = _fields(requestedMessage=requested_message, connectorId=connector_id)
    return call(
        charge_point_id, "ExtendedTriggerMessage", payload, wait=wait, requested_by=requested_by
    )
