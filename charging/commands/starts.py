"""What a call starts: the row a CALL makes as it is sent (a reservation, a job, a charging
profile) and the payload ids it takes from that row, one registered `Start` per action.

`core.send` asks `start_for(action)` and knows no action by name: an action that starts
something registers its maker here with `@starts(...)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from .. import services
from ..clock import parse_charger_time
from ..models import ChargePoint, ChargerJob, ChargingProfile, OutboundCall, Reservation
from .errors import InvalidCommand


@dataclass(frozen=True)
class Started:
    """What one call started, made before its OutboundCall: the payload to send (with the ids it
    took), the row to tie to the call, and the OutboundCall.callback run when the call ends
    without an answer."""

    payload: dict[str, Any]
    row: Reservation | ChargerJob | ChargingProfile
    callback: str = ""

    def attach(self, call: OutboundCall) -> None:
        """Tie the row to its recorded call (inside `send`'s transaction)."""
        self.row.call = call
        self.row.save()


class Maker(Protocol):
    """Makes what a call starts, inside `send`'s transaction; None when it starts nothing.
    `allocate`: the caller left out the Start's `allocates` field (`begin` fills it with the
    row's primary key)."""

    def __call__(
        self,
        *,
        charge_point: ChargePoint,
        action: str,
        payload: dict[str, Any],
        allocate: bool,
    ) -> Started | None: ...


def _as_given(*, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    return payload


def _never_refused(*, action: str, payload: dict[str, Any]) -> None:
    return None


@dataclass(frozen=True)
class Start:
    """What calls of one action start. Before anything is recorded, `checked` gives the payload
    its schema checks (ids still to be chosen stand in as 0) and `refuse` raises InvalidCommand
    for a schema-valid one that must not be sent; `begin` makes the row once the charge point is
    known to be connected, in `send`'s transaction.
    """

    make: Maker
    # A payload field that, left out, takes the new row's primary key.
    allocates: str | None = None
    placeholders: Callable[..., dict[str, Any]] = _as_given
    refuse: Callable[..., None] = _never_refused

    def _allocating(self, payload: dict[str, Any]) -> bool:
        return self.allocates is not None and self.allocates not in payload

    def checked(self, *, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """`payload` as its schema is to check it, before the ids it takes are known."""
        if self.allocates is not None and self.allocates not in payload:
            payload = {**payload, self.allocates: 0}
        return self.placeholders(action=action, payload=payload)

    def begin(
        self, *, charge_point: ChargePoint, action: str, payload: dict[str, Any]
    ) -> Started | None:
        """Make what the call starts and fill in the ids it takes; None when nothing."""
        allocate = self._allocating(payload)
        started = self.make(
            charge_point=charge_point, action=action, payload=payload, allocate=allocate
        )
        if started is not None and self.allocates is not None and allocate:
            started = replace(started, payload={**started.payload, self.allocates: started.row.pk})
        return started


def _nothing(
    *, charge_point: ChargePoint, action: str, payload: dict[str, Any], allocate: bool
) -> None:
    return None


NOTHING = Start(make=_nothing)
_STARTS: dict[str, Start] = {}


def start_for(action: str) -> Start:
    """What a call of `action` starts (`NOTHING` for most actions)."""
    return _STARTS.get(action, NOTHING)


def starts(
    *actions: str,
    allocates: str | None = None,
    placeholders: Callable[..., dict[str, Any]] = _as_given,
    refuse: Callable[..., None] = _never_refused,
) -> Callable[[Maker], Maker]:
    """Register the decorated maker as what a call of each of `actions` starts (once each)."""

    def register(make: Maker) -> Maker:
        for action in actions:
            if action in _STARTS:
                raise ValueError(f"what {action} starts is registered twice")
            _STARTS[action] = Start(
                make=make, allocates=allocates, placeholders=placeholders, refuse=refuse
            )
        return make

    return register


# --- what OCPP 1.6 calls start ----------------------------------------------------------------


@starts("ReserveNow", allocates="reservationId")
def _reservation(
    *, charge_point: ChargePoint, action: str, payload: dict[str, Any], allocate: bool
) -> Started | None:
    """A ReserveNow without reservationId gets a new Reservation's (charging.services); one
    with an id of its own makes its reservation when answered."""
    if not allocate:
        return None
    expiry = parse_charger_time(payload["expiryDate"])
    if expiry is None:
        raise InvalidCommand(
            f"invalid ReserveNow: expiryDate {payload['expiryDate']!r} is not a time",
            code="PropertyConstraintViolation",
            details={"cause": "expiryDate is not a time"},
        )
    reservation = services.reservation_create(
        charge_point=charge_point,
        connector_id=payload["connectorId"],
        id_tag=payload["idTag"],
        parent_id_tag=payload.get("parentIdTag") or "",
        expiry_date=expiry,
    )
    return Started(payload=payload, row=reservation)


@starts("UpdateFirmware", "GetDiagnostics")
@starts("GetLog", "SignedUpdateFirmware", allocates="requestId")
def _job(
    *, charge_point: ChargePoint, action: str, payload: dict[str, Any], allocate: bool
) -> Started:
    """Each of these requests starts a job (services.JOB_REQUESTS); a GetLog or
    SignedUpdateFirmware without requestId gets the job's id as theirs."""
    job = services.job_create(charge_point=charge_point, action=action, payload=payload)
    if allocate:
        job.request_id = job.pk
    return Started(payload=payload, row=job)


def _profile_placeholders(*, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    profile = services.charging_profile_in(action=action, payload=payload)
    if profile is None or "chargingProfileId" in profile:
        return payload
    return services.charging_profile_with_id(action=action, payload=payload, charging_profile_id=0)


def _profile_refuse(*, action: str, payload: dict[str, Any]) -> None:
    refusal = services.charging_profile_refusal(action=action, payload=payload)
    if refusal is not None:
        raise InvalidCommand(
            f"invalid {action}: {refusal}",
            code="PropertyConstraintViolation",
            details={"cause": f"{refusal} (OCPP 1.6 §3.13.1, §5.11)"},
        )


# The actions of services.charging_profiles.PROFILE_FIELDS.
@starts(
    "SetChargingProfile",
    "RemoteStartTransaction",
    placeholders=_profile_placeholders,
    refuse=_profile_refuse,
)
def _charging_profile(
    *, charge_point: ChargePoint, action: str, payload: dict[str, Any], allocate: bool
) -> Started | None:
    """A SetChargingProfile, or a RemoteStartTransaction carrying a chargingProfile, records its
    profile `Requested`; one without chargingProfileId gets the charge point's next one (under
    its lock, charging.services). It is Rejected or Unconfirmed when the call ends unanswered."""
    if services.charging_profile_in(action=action, payload=payload) is None:
        return None
    profile = services.charging_profile_request(
        charge_point=charge_point, action=action, payload=payload
    )
    payload = services.charging_profile_with_id(
        action=action, payload=payload, charging_profile_id=profile.charging_profile_id
    )
    return Started(payload=payload, row=profile, callback=services.CHARGING_PROFILE_CALLBACK)
