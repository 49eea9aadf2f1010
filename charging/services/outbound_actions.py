"""What each action does around a call, in one registry keyed by name (docs/commands.md).

An entry says what sending the call starts (a reservation, a job, a charging profile), what its
answer changes, what its end changes (answered or not), what of its payload is redacted once it
ended, whether a delayed call is still wanted when due, and flags such as a CALL never replayed.
An OutboundCall names its entry by its action, or by its `flow` when it is sent for a purpose of
its own (the automatic RemoteStartTransaction): a renamed function never breaks a stored row.
Adding a Central System → Charge Point action with state is one `action_register` plus its
handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..clock import parse_charger_time
from ..models import (
    ChargePoint,
    ChargerJob,
    ChargingProfile,
    OutboundCall,
    Reservation,
)
from .authorization_keys import (
    authorization_key_answered,
    authorization_key_call_ended,
    authorization_key_in,
    authorization_key_redacted,
)
from .auto_remote_start import auto_remote_start_confirm, auto_remote_start_ended
from .charge_points import (
    charge_point_local_list_version_set,
    configuration_key_set,
    configuration_keys_store,
)
from .charging_profiles import (
    charging_profile_answered,
    charging_profile_call_ended,
    charging_profile_in,
    charging_profile_refusal,
    charging_profile_request,
    charging_profile_with_id,
    charging_profiles_clear_answered,
)
from .connectors import connector_availability_set, connector_composite_schedule_set
from .installed_certificates import (
    installed_certificate_answered,
    installed_certificate_deleted,
    installed_certificates_listed,
)
from .jobs import job_answered, job_create
from .reservations import reservation_answered, reservation_cancel_answered, reservation_create

logger = logging.getLogger(__name__)

Payload = dict[str, Any]
# `on_answer(call=, response=)`: the charger answered CALLRESULT (run in a savepoint).
AnswerHandler = Callable[..., object]
# `on_end(call=)`: the call ended, answered or not (run in a savepoint, before `on_answer`).
EndHandler = Callable[..., object]
# `confirm(call=)` of a delayed call that is due: "" sends it, any other text is why not.
Confirm = Callable[..., str]
# `redact(payload)`: the payload to keep once the call ended, or None when nothing is secret.
Redact = Callable[[Payload], Payload | None]


class CallRefused(ValueError):
    """A schema-valid payload that must not be sent (`code`: the OCPP error code, `details`:
    why); charging.commands raises it as InvalidCommand."""

    def __init__(self, message: str, *, code: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = details or {}


# --- what a call starts -----------------------------------------------------------------------


@dataclass(frozen=True)
class Started:
    """What one call started, made before its OutboundCall: the payload to send (with the ids it
    took) and the row to tie to the call."""

    payload: Payload
    row: Reservation | ChargerJob | ChargingProfile

    def attach(self, call: OutboundCall) -> None:
        """Tie the row to its recorded call (inside `send`'s transaction)."""
        self.row.call = call
        self.row.save()


class Maker(Protocol):
    """Makes what a call starts, inside `send`'s transaction; None when it starts nothing.
    `allocate`: the caller left out the Start's `allocates` field (`begin` fills it with the
    row's primary key)."""

    def __call__(
        self, *, charge_point: ChargePoint, action: str, payload: Payload, allocate: bool
    ) -> Started | None: ...


def _as_given(*, action: str, payload: Payload) -> Payload:
    return payload


def _never_refused(*, action: str, payload: Payload) -> None:
    return None


def _nothing(*, charge_point: ChargePoint, action: str, payload: Payload, allocate: bool) -> None:
    return None


@dataclass(frozen=True)
class Start:
    """What calls of one action start. Before anything is recorded, `checked` gives the payload
    its schema checks (ids still to be chosen stand in as 0) and `refuse` raises CallRefused for
    a schema-valid one that must not be sent; `begin` makes the row once the charge point is
    known to be connected, in `send`'s transaction."""

    make: Maker = _nothing
    # A payload field that, left out, takes the new row's primary key.
    allocates: str | None = None
    placeholders: Callable[..., Payload] = _as_given
    refuse: Callable[..., None] = _never_refused

    def checked(self, *, action: str, payload: Payload) -> Payload:
        """`payload` as its schema is to check it, before the ids it takes are known."""
        if self.allocates is not None and self.allocates not in payload:
            payload = {**payload, self.allocates: 0}
        return self.placeholders(action=action, payload=payload)

    def begin(self, *, charge_point: ChargePoint, action: str, payload: Payload) -> Started | None:
        """Make what the call starts and fill in the ids it takes; None when nothing."""
        allocate = self.allocates is not None and self.allocates not in payload
        started = self.make(
            charge_point=charge_point, action=action, payload=payload, allocate=allocate
        )
        if started is not None and self.allocates is not None and allocate:
            started = replace(started, payload={**started.payload, self.allocates: started.row.pk})
        return started


NOTHING = Start()


# --- the registry -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionSpec:
    """Everything an action (or a flow: a purpose of its own, sending the OCPP action `sends`)
    does besides being sent and answered."""

    name: str
    sends: str = ""  # a flow's OCPP action; "" for an action itself
    start: Start = NOTHING
    on_answer: AnswerHandler | None = None
    on_end: EndHandler | None = None
    confirm: Confirm | None = None
    redact: Redact | None = None
    # A repeated CALL of this action is processed afresh, never answered from the stored
    # answer: its answer carries our clock (chargers that restart their id counter reuse ids).
    never_replayed: bool = False

    @property
    def action(self) -> str:
        return self.sends or self.name


_REGISTRY: dict[str, ActionSpec] = {}


def action_register(spec: ActionSpec) -> ActionSpec:
    """Register what `spec.name` does (once per name)."""
    if spec.name in _REGISTRY:
        raise ValueError(f"{spec.name} is registered twice")
    _REGISTRY[spec.name] = spec
    return spec


def action_spec(name: str) -> ActionSpec:
    """What the action or flow `name` does (an entry doing nothing for most actions)."""
    spec = _REGISTRY.get(name)
    return spec if spec is not None else ActionSpec(name)


def action_never_replayed(action: str) -> bool:
    spec = _REGISTRY.get(action)
    return spec is not None and spec.never_replayed


def outbound_call_spec(call: OutboundCall) -> ActionSpec:
    """The entry governing `call`: its flow's, else its action's."""
    if call.flow and call.flow not in _REGISTRY:
        logger.warning("%s %s: unknown flow %r", call.action, call.unique_id, call.flow)
    return action_spec(call.flow or call.action)


# --- makers -----------------------------------------------------------------------------------


def _reservation(
    *, charge_point: ChargePoint, action: str, payload: Payload, allocate: bool
) -> Started | None:
    """A ReserveNow without reservationId gets a new Reservation's; one with an id of its own
    makes its reservation when answered."""
    if not allocate:
        return None
    expiry = parse_charger_time(payload["expiryDate"])
    if expiry is None:
        raise CallRefused(
            f"invalid ReserveNow: expiryDate {payload['expiryDate']!r} is not a time",
            code="PropertyConstraintViolation",
            details={"cause": "expiryDate is not a time"},
        )
    reservation = reservation_create(
        charge_point=charge_point,
        connector_id=payload["connectorId"],
        id_tag=payload["idTag"],
        parent_id_tag=payload.get("parentIdTag") or "",
        expiry_date=expiry,
    )
    return Started(payload=payload, row=reservation)


def _job(*, charge_point: ChargePoint, action: str, payload: Payload, allocate: bool) -> Started:
    """Each of these requests starts a job (services.JOB_REQUESTS); a GetLog or
    SignedUpdateFirmware without requestId gets the job's id as theirs."""
    job = job_create(charge_point=charge_point, action=action, payload=payload)
    if allocate:
        job.request_id = job.pk
    return Started(payload=payload, row=job)


def _profile_placeholders(*, action: str, payload: Payload) -> Payload:
    profile = charging_profile_in(action=action, payload=payload)
    if profile is None or "chargingProfileId" in profile:
        return payload
    return charging_profile_with_id(action=action, payload=payload, charging_profile_id=0)


def _profile_refuse(*, action: str, payload: Payload) -> None:
    refusal = charging_profile_refusal(action=action, payload=payload)
    if refusal is not None:
        raise CallRefused(
            f"invalid {action}: {refusal}",
            code="PropertyConstraintViolation",
            details={"cause": f"{refusal} (OCPP 1.6 §3.13.1, §5.11)"},
        )


def _charging_profile(
    *, charge_point: ChargePoint, action: str, payload: Payload, allocate: bool
) -> Started | None:
    """A SetChargingProfile, or a RemoteStartTransaction carrying a chargingProfile, records its
    profile `Requested`; one without chargingProfileId gets the charge point's next one (under
    its lock). It is Rejected or Unconfirmed when the call ends unanswered."""
    if charging_profile_in(action=action, payload=payload) is None:
        return None
    profile = charging_profile_request(charge_point=charge_point, action=action, payload=payload)
    payload = charging_profile_with_id(
        action=action, payload=payload, charging_profile_id=profile.charging_profile_id
    )
    return Started(payload=payload, row=profile)


def _profile_call_ended(*, call: OutboundCall) -> None:
    if isinstance(call.payload, dict) and charging_profile_in(
        action=call.action, payload=call.payload
    ):
        charging_profile_call_ended(call=call)


# --- answers that change our state ------------------------------------------------------------


def _answered_get_configuration(*, call: OutboundCall, response: Payload) -> None:
    configuration_keys_store(
        charge_point=call.charge_point,
        keys=response.get("configurationKey") or [],
        unknown=response.get("unknownKey") or [],
        complete=not call.payload.get("key"),
        at=call.answered_at,
    )


def _answered_change_configuration(*, call: OutboundCall, response: Payload) -> None:
    if authorization_key_in(call.payload):
        authorization_key_answered(call=call, response=response)
        return  # write-only: never kept as a configuration value
    # RebootRequired: the charger took the value; it applies after a reboot (OCPP 1.6 §5.3).
    if response.get("status") in ("Accepted", "RebootRequired"):
        configuration_key_set(
            charge_point=call.charge_point,
            key=call.payload["key"],
            value=call.payload["value"],
            at=call.answered_at,
        )


def _change_configuration_ended(*, call: OutboundCall) -> None:
    if authorization_key_in(call.payload):
        authorization_key_call_ended(call=call)


def _answered_change_availability(*, call: OutboundCall, response: Payload) -> None:
    status = response.get("status")
    if status in ("Accepted", "Scheduled"):
        connector_availability_set(
            charge_point=call.charge_point,
            connector_id=int(call.payload["connectorId"]),
            availability=call.payload["type"],
            status=status,
            at=call.answered_at,
        )


def _answered_get_local_list_version(*, call: OutboundCall, response: Payload) -> None:
    charge_point_local_list_version_set(
        charge_point=call.charge_point, version=int(response["listVersion"]), at=call.answered_at
    )


def _answered_send_local_list(*, call: OutboundCall, response: Payload) -> None:
    if response.get("status") == "Accepted":
        charge_point_local_list_version_set(
            charge_point=call.charge_point,
            version=int(call.payload["listVersion"]),
            at=call.answered_at,
        )


def _answered_get_composite_schedule(*, call: OutboundCall, response: Payload) -> None:
    if response.get("status") == "Accepted":
        connector_composite_schedule_set(
            charge_point=call.charge_point,
            connector_id=int(call.payload["connectorId"]),
            schedule=response,
            request=call.payload,
            at=call.answered_at,
        )


# --- OCPP 1.6 ---------------------------------------------------------------------------------

_JOB = Start(make=_job)
_JOB_ALLOCATING = Start(make=_job, allocates="requestId")
_PROFILE = Start(make=_charging_profile, placeholders=_profile_placeholders, refuse=_profile_refuse)


def _profile_carrier(action: str) -> ActionSpec:
    """The actions of charging_profiles.PROFILE_FIELDS."""
    return ActionSpec(
        action, start=_PROFILE, on_answer=charging_profile_answered, on_end=_profile_call_ended
    )


for _spec in (
    # Charge point → central system: only flags.
    ActionSpec("BootNotification", never_replayed=True),
    ActionSpec("Heartbeat", never_replayed=True),
    # Central system → charge point.
    ActionSpec("CancelReservation", on_answer=reservation_cancel_answered),
    ActionSpec("ChangeAvailability", on_answer=_answered_change_availability),
    ActionSpec(
        "ChangeConfiguration",
        on_answer=_answered_change_configuration,
        on_end=_change_configuration_ended,
        redact=authorization_key_redacted,
    ),
    ActionSpec("ClearChargingProfile", on_answer=charging_profiles_clear_answered),
    ActionSpec("DeleteCertificate", on_answer=installed_certificate_deleted),
    ActionSpec("GetCompositeSchedule", on_answer=_answered_get_composite_schedule),
    ActionSpec("GetConfiguration", on_answer=_answered_get_configuration),
    ActionSpec("GetDiagnostics", start=_JOB, on_answer=job_answered),
    ActionSpec("GetInstalledCertificateIds", on_answer=installed_certificates_listed),
    ActionSpec("GetLocalListVersion", on_answer=_answered_get_local_list_version),
    ActionSpec("GetLog", start=_JOB_ALLOCATING, on_answer=job_answered),
    ActionSpec("InstallCertificate", on_answer=installed_certificate_answered),
    _profile_carrier("RemoteStartTransaction"),
    ActionSpec(
        "ReserveNow",
        start=Start(make=_reservation, allocates="reservationId"),
        on_answer=reservation_answered,
    ),
    ActionSpec("SendLocalList", on_answer=_answered_send_local_list),
    _profile_carrier("SetChargingProfile"),
    ActionSpec("SignedUpdateFirmware", start=_JOB_ALLOCATING, on_answer=job_answered),
    ActionSpec("UpdateFirmware", start=_JOB, on_answer=job_answered),
    # Flows: calls sent for a purpose of their own.
    ActionSpec(
        "AutoRemoteStart",
        sends="RemoteStartTransaction",
        on_answer=charging_profile_answered,
        on_end=auto_remote_start_ended,
        confirm=auto_remote_start_confirm,
    ),
):
    action_register(_spec)
