"""The generic command API: `send`, `wait`, `call`, `result` (docs/commands.md).

`send` validates and records an OutboundCall, with what the call starts (its action's entry in
services.outbound_actions), and has it enqueued after commit (charging.adapters: the
`levity.send_call` task); `wait`
blocks the caller's own process (never a worker) until the call ends, on Redis or the database,
bounded; `call` does both and returns the charger's answer or raises. A request is an
`ocpp.v16.call` dataclass (`call.Reset(type="Soft")`), or an action name and its payload.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from django.db import transaction
from django.utils import timezone
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case

from .. import adapters, outcomes, selectors, services
from ..clock import format_ocpp_time
from ..models import OutboundCall, OutboundCallStatus
from ..protocol import MessageType, OCPPError, action_name
from ..protocol.enums import ALL_ACTIONS, CHARGE_POINT_ACTIONS
from ..protocol.validation import validate_payload
from .errors import CallError, CallTimeout, ChargePointOffline, InvalidCommand

# Actions the central system sends (OCPP 1.6 §5 and the security whitepaper); DataTransfer
# goes both ways.
CENTRAL_SYSTEM_ACTIONS: frozenset[str] = (ALL_ACTIONS - CHARGE_POINT_ACTIONS) | {"DataTransfer"}

DEFAULT_WAIT = 30.0
# Strings of a command's payload (the API's schema says so with this pattern).
NO_NUL = "^[^\\u0000]*$"
_POLL_FIRST = 0.02
_POLL_MAX = 0.5


# --- the generic API ---------------------------------------------------------------------


def send(
    charge_point_id: str,
    request: Any,
    payload: dict[str, Any] | None = None,
    *,
    requested_by: str = "",
) -> OutboundCall:
    """Validate, record and enqueue a CALL; returns the queued OutboundCall at once.

    `request`: an `ocpp.v16.call` dataclass, or an action (name or `Action`) with its `payload`.
    The `levity.send_call` task is enqueued after the surrounding transaction commits (at once
    outside one). Raises InvalidCommand (nothing recorded), or ChargePointOffline when the
    charge point is unknown or not connected (a known one gets an `offline` row).
    """
    action, payload = _action_and_payload(request, payload)
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
    if _has_nul(payload):
        # Schema-valid, but no database stores it (PostgreSQL's JSON refuses \u0000).
        raise InvalidCommand(
            f"invalid {action}: a string holds a NUL character",
            code="PropertyConstraintViolation",
            details={"cause": "payload: NUL character in a string"},
        )
    # What the call starts may choose ids the caller left out: they stand in as 0 until then.
    start = services.action_spec(action).start
    checked = start.checked(action=action, payload=payload)
    try:
        validate_payload(MessageType.call, action, checked)
    except OCPPError as error:
        cause = error.details.get("cause", error.description)
        raise InvalidCommand(
            f"invalid {action}: {cause}", code=error.code, details=error.details
        ) from None
    try:
        start.refuse(action=action, payload=payload)
    except services.CallRefused as refused:
        raise InvalidCommand(str(refused), code=refused.code, details=refused.details) from None

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
        # What the call starts (a reservation, a job, a profile), made first when the call
        # needs its id.
        try:
            started = start.begin(charge_point=charge_point, action=action, payload=payload)
        except services.CallRefused as refused:
            raise InvalidCommand(str(refused), code=refused.code, details=refused.details) from None
        outbound = services.outbound_call_create(
            charge_point=charge_point,
            action=action,
            payload=payload if started is None else started.payload,
            requested_by=requested_by,
            task_id=task_id,
        )
        if started is not None:
            started.attach(outbound)
        call_id = outbound.pk
        transaction.on_commit(
            lambda: adapters.command_send(
                call_id=call_id, charge_point_id=charge_point.id, task_id=task_id
            )
        )
    return outbound


def _action_and_payload(request: Any, payload: dict[str, Any] | None) -> tuple[Any, Any]:
    if dataclasses.is_dataclass(request) and not isinstance(request, type):
        if payload is not None:
            raise TypeError("a request dataclass carries its own payload")
        return type(request).__name__, request_payload(request)
    return request, {} if payload is None else payload


def request_payload(request: Any) -> dict[str, Any]:
    """The wire payload of an `ocpp.v16.call` dataclass: camelCase (the `ocpp` package's own
    conversion), without omitted (None) fields, enums as their values, datetimes as OCPP time
    (a naive one taken as UTC)."""
    return _plain(snake_to_camel_case(remove_nones(serialize_as_dict(request))))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return ocpp_time(value)
    return value


def ocpp_time(value: datetime) -> str:
    """OCPP time for a datetime (a naive one is taken as UTC)."""
    return format_ocpp_time(value if timezone.is_aware(value) else value.replace(tzinfo=UTC))


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


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
        # At most MAX_BLOCK per BLPOP, so a lost wake-up costs at most that.
        woken = outcomes.wait_for_wake(call.unique_id, remaining)
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
    request: Any,
    payload: dict[str, Any] | None = None,
    *,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> dict[str, Any]:
    """Send a CALL (`request` as for `send`) and wait up to `wait` seconds for its answer:
    returns the charger's CALLRESULT payload, or raises InvalidCommand, ChargePointOffline,
    CallError or CallTimeout. Not to wait, use `send`."""
    if not wait or wait < 0:
        raise ValueError(f"call() waits for the answer (wait={wait!r}): use send() not to wait")
    outbound = send(charge_point_id, request, payload, requested_by=requested_by)
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
