"""Validate payloads against the `ocpp` package's 1.6 JSON schemas, strictly or leniently (docs/validation.md)."""

from __future__ import annotations

import copy
import functools
import itertools
import json
import math
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import ocpp

from .enums import ALL_ACTIONS, MessageType
from .errors import (
    ActionNotImplemented,
    FormationViolation,
    OccurenceConstraintViolation,
    OCPPError,
    PropertyConstraintViolation,
    TypeConstraintViolation,
)

LENIENT = "lenient"  # soft violations accepted, normalised and reported
STRICT = "strict"  # every violation refused

# The soft rules lenient mode tolerates (a Violation's `rule`, the metrics' label): the schema
# keyword that refused the value.
SOFT_RULES = ("additionalProperties", "maxLength", "format", "type", "enum")

Violation = dict[str, str]  # {"rule": one of SOFT_RULES, "field": "meterValue.0.timestamp"}

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
_RANK = ("additionalProperties", "required", "type")

# Truncating these would authorise another tag: an over-long one stays a hard violation.
_IDENTIFIERS = frozenset({"idTag", "parentIdTag"})
_INTEGER_TEXT = re.compile(r"\s*[+-]?\d{1,12}\s*")
_NUMBER_TEXT = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_SCHEMAS = os.path.join(os.path.dirname(ocpp.__file__), "v16", "schemas")


@functools.cache
def _validator(message_type: MessageType, action: str) -> jsonschema_rs.Draft4Validator:
    """The compiled validator of one (message type, action), built once per process."""
    if action not in ALL_ACTIONS:
        raise ActionNotImplemented(details={"cause": f"unknown action {action!r}"})
    name = action + ("Response" if message_type == MessageType.call_result else "")
    try:
        with open(os.path.join(_SCHEMAS, f"{name}.json"), encoding="utf-8-sig") as schema:
            # jsonschema-rs checks `multipleOf: 0.1` exactly (21.4 passes), which binary floats
            # in Python's jsonschema did not; and it checks `format` (date-time, uri).
            return jsonschema_rs.Draft4Validator(_bounded(json.load(schema)))
    except OSError:
        raise ActionNotImplemented(details={"cause": f"no schema for {action!r}"}) from None


def _bounded(schema: Any) -> Any:
    """`schema` with INTEGER_RANGE as the bounds of every integer (checked in Rust, not by a
    walk of each payload)."""
    if isinstance(schema, dict):
        if schema.get("type") == "integer":
            schema.setdefault("minimum", INTEGER_RANGE[0])
            schema.setdefault("maximum", INTEGER_RANGE[1])
        for value in schema.values():
            _bounded(value)
    elif isinstance(schema, list):
        for value in schema:
            _bounded(value)
    return schema


def validate_payload(message_type: MessageType, action: str, payload: dict[str, Any]) -> None:
    """Raise the OCPP 1.6 error for a payload that its schema rejects (strict)."""
    validate(message_type, action, payload, mode=STRICT)


def validate_call(
    action: str, payload: dict[str, Any], mode: str
) -> tuple[dict[str, Any], list[Violation]]:
    """A charger's CALL payload as the pipeline sees it, and the soft violations tolerated."""
    return validate(MessageType.call, action, payload, mode=mode)


def validate_answer(
    action: str, payload: dict[str, Any], mode: str
) -> tuple[dict[str, Any], list[Violation]]:
    """A charger's CALLRESULT payload to our `action` CALL, normalised, and its soft violations."""
    return validate(MessageType.call_result, action, payload, mode=mode)


def validate(
    message_type: MessageType, action: str, payload: dict[str, Any], *, mode: str
) -> tuple[dict[str, Any], list[Violation]]:
    """`payload` checked against its schema: in strict mode unchanged or refused; in lenient mode
    normalised (docs/validation.md) with the soft violations it had, or refused for a hard one.
    Raises the OCPPError of the first hard violation."""
    validator = _validator(message_type, action)
    try:
        if validator.is_valid(payload):
            return payload, []
    except UnicodeEncodeError:
        pass  # a lone surrogate: `_errors` reads the payload with it replaced
    errors = _errors(validator, payload)
    if not errors:
        return payload, []
    if mode != LENIENT:
        raise _error(_first(errors))
    return _tolerate(validator, payload, errors)


def _tolerate(
    validator: jsonschema_rs.Draft4Validator, payload: dict[str, Any], errors: list[Any]
) -> tuple[dict[str, Any], list[Violation]]:
    """Fix the soft errors of a copy of `payload`, or raise the first hard one."""
    payload = copy.deepcopy(payload)
    violations: list[Violation] = []
    kept: set[str] = set()  # unreadable timestamps left as they came
    for attempt in itertools.count():  # a fix may uncover another rule on the same value
        errors = [e for e in errors if _field(e.instance_path) not in kept]
        if not errors:
            return payload, sorted(violations, key=lambda v: (v["field"], v["rule"]))
        hard = [e for e in errors if not _soft(e)]
        if hard or attempt == len(SOFT_RULES):
            raise _error(_first(hard or errors))
        for error in errors:
            violations.extend(_fix(payload, error, kept))
        errors = _errors(validator, payload)
    raise AssertionError("unreachable")


def _errors(validator: jsonschema_rs.Draft4Validator, payload: Any) -> list[Any]:
    try:
        return list(validator.iter_errors(payload))
    except UnicodeEncodeError:
        # A lone surrogate (valid JSON, not UTF-8) breaks jsonschema-rs's error messages; the
        # paths and rules are the same with it replaced.
        return list(validator.iter_errors(_without_surrogates(payload)))


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    return value


def _soft(error: Any) -> bool:
    kind, value, path = error.kind.name, error.instance, error.instance_path
    if kind == "additionalProperties":
        return True
    if kind == "maxLength":
        return not (path and path[-1] in _IDENTIFIERS)
    if kind == "format":
        return error.kind.format == "date-time" and isinstance(value, str)
    if kind == "enum":
        return isinstance(value, str) and len(_case_matches(value, error.kind.options)) == 1
    if kind == "type":
        return _coerced(value, error.kind.types) is not None
    return False


def _fix(payload: dict[str, Any], error: Any, kept: set[str]) -> Iterable[Violation]:
    kind, value, path = error.kind.name, error.instance, list(error.instance_path)
    if kind == "additionalProperties":
        container = _at(payload, path)
        for name in error.kind.unexpected:
            container.pop(name, None)
            yield {"rule": kind, "field": _field([*path, name])}
        return
    if kind == "maxLength":
        fixed: Any = value[: error.kind.limit]
    elif kind == "format":
        fixed = _utc_time(value)
        if fixed is None:  # unreadable: left for the handlers, which read it as no time
            kept.add(_field(path))
            fixed = value
    elif kind == "enum":
        fixed = _case_matches(value, error.kind.options)[0]
    else:
        fixed = _coerced(value, error.kind.types)
    _at(payload, path[:-1])[path[-1]] = fixed
    yield {"rule": kind, "field": _field(path)}


def _at(payload: Any, path: list[str | int]) -> Any:
    for part in path:
        payload = payload[part]
    return payload


def _field(path: Iterable[str | int]) -> str:
    return ".".join(str(part) for part in path) or "payload"


def _case_matches(value: str, options: list[Any]) -> list[str]:
    folded = value.strip().casefold()
    return [o for o in options if isinstance(o, str) and o.casefold() == folded]


def _coerced(value: Any, types: list[str]) -> Any:
    """`value` as the schema's type, when it is a number sent as text (or text as a number)."""
    if isinstance(value, str):
        if "integer" in types and _INTEGER_TEXT.fullmatch(value):
            return int(value)
        if "number" in types and _NUMBER_TEXT.fullmatch(value):
            number = float(value)
            return number if math.isfinite(number) else None
    elif "string" in types and type(value) in (int, float) and math.isfinite(value):
        return str(value)
    return None


def _utc_time(value: str) -> str | None:
    """A charger's date-time as RFC 3339 UTC, reading a time without an offset as UTC (the zone
    OCPP 1.6 asks chargers to use), or None when it is no date-time at all."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _first(errors: list[Any]) -> Any:
    # Report structural problems first, then the shallowest error, so the code is stable.
    def rank(error: Any) -> tuple[int, int]:
        kind = error.kind.name
        return (_RANK.index(kind) if kind in _RANK else len(_RANK), len(error.instance_path))

    return min(errors, key=rank)


def _error(error: Any) -> OCPPError:
    if error.kind.name in ("minimum", "maximum") and error.kind.limit in INTEGER_RANGE:
        return PropertyConstraintViolation(
            details={"cause": f"{_field(error.instance_path)}: integer out of the 32-bit range"}
        )
    error_class = _ERRORS_BY_VALIDATOR.get(error.kind.name, PropertyConstraintViolation)
    return error_class(details={"cause": f"{_field(error.instance_path)}: {error.message}"})
