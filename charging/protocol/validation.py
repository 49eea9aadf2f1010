"""Validate payloads against the OCPP 1.6 JSON schemas shipped in the `ocpp` package."""

from __future__ import annotations

import decimal
import json
from typing import Any

from jsonschema.exceptions import ValidationError as SchemaValidationError
from ocpp.messages import get_validator

from .enums import ALL_ACTIONS, MessageType
from .errors import (
    ActionNotImplemented,
    FormationViolation,
    OccurenceConstraintViolation,
    OCPPError,
    PropertyConstraintViolation,
    TypeConstraintViolation,
)

# These schemas use `multipleOf: 0.1`, which binary floats fail (21.4 → 21.399999…);
# the `ocpp` package validates them with Decimal, and so do we.
_DECIMAL_SCHEMAS = {
    (MessageType.call, "SetChargingProfile"),
    (MessageType.call, "RemoteStartTransaction"),
    (MessageType.call_result, "GetCompositeSchedule"),
}

# OCPP 1.6 defines `integer` as 32 bit (31 bit resolution, 1 sign bit); the JSON schemas set no
# bound, and a bigger value would overflow the database's integer columns (found by
# benchmarks/fuzz_frames.py: StartTransaction with meterStart 2**64 was an InternalError).
INTEGER_RANGE = (-(2**31), 2**31 - 1)

_ERRORS_BY_VALIDATOR: dict[str, type[OCPPError]] = {
    "required": OccurenceConstraintViolation,
    "minItems": OccurenceConstraintViolation,
    "maxItems": OccurenceConstraintViolation,
    "type": TypeConstraintViolation,
    "additionalProperties": FormationViolation,
}


def validate_payload(message_type: MessageType, action: str, payload: dict[str, Any]) -> None:
    """Raise the OCPP 1.6 error for a payload that its schema rejects."""
    if action not in ALL_ACTIONS:
        raise ActionNotImplemented(details={"cause": f"unknown action {action!r}"})
    key = (message_type, action)
    parse_float = decimal.Decimal if key in _DECIMAL_SCHEMAS else float
    try:
        validator = get_validator(int(message_type), action, "1.6", parse_float=parse_float)
    except OSError:
        raise ActionNotImplemented(details={"cause": f"no schema for {action!r}"}) from None
    if parse_float is decimal.Decimal:
        payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    try:
        with decimal.localcontext() as context:
            # `multipleOf: 0.1` divides: 4e34 / 0.1 needs 36 digits, Decimal's default is 28
            # (DivisionImpossible, an InternalError); every float JSON can carry fits in 800.
            context.prec = 800
            error = next(iter(sorted(validator.iter_errors(payload), key=_error_rank)), None)
    except decimal.InvalidOperation:
        raise PropertyConstraintViolation(details={"cause": "a number out of range"}) from None
    if error is None:
        too_big = _integer_out_of_range(payload)
        if too_big is not None:
            raise PropertyConstraintViolation(
                details={"cause": f"{too_big}: integer out of the 32-bit range"}
            )
        return
    error_class = _ERRORS_BY_VALIDATOR.get(str(error.validator), PropertyConstraintViolation)
    path = ".".join(str(part) for part in error.absolute_path) or "payload"
    raise error_class(details={"cause": f"{path}: {error.message}"})


def _integer_out_of_range(payload: Any) -> str | None:
    """The path of the first integer beyond INTEGER_RANGE in `payload`, if any (iterative: the
    parser bounds nesting, but this must not depend on it)."""
    low, high = INTEGER_RANGE
    stack: list[tuple[Any, tuple[str, ...]]] = [(payload, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            stack.extend((item, (*path, str(key))) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, (*path, str(index))) for index, item in enumerate(value))
        elif type(value) is int and not low <= value <= high:
            return ".".join(path) or "payload"
    return None


def _error_rank(error: SchemaValidationError) -> tuple[int, int]:
    # Report structural problems first, then the shallowest error, so the code is stable.
    order = ["additionalProperties", "required", "type"]
    validator = str(error.validator)
    return (order.index(validator) if validator in order else len(order), len(error.absolute_path))
