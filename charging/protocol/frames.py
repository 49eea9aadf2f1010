"""OCPP-J frames: parse text into Call / CallResult / CallError and back, without I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import jsonutil
from .enums import ALL_ACTIONS, MessageType
from .errors import FormationViolation, OCPPError

MAX_UNIQUE_ID_LENGTH = 36  # OCPP-J 1.6 §4.1.4
# Arrays and objects nested in one frame, the frame's own array included. The deepest OCPP 1.6
# frames (SetChargingProfile, MeterValues) reach 6; a deeper one is refused here, before code
# that walks payloads recursively (cleaning, schema validation, JSON columns) meets it.
MAX_DEPTH = 32


@dataclass(frozen=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any]
    message_type = MessageType.call

    def to_json(self) -> str:
        return _dumps([int(MessageType.call), self.unique_id, self.action, self.payload])


@dataclass(frozen=True)
class CallResult:
    unique_id: str
    payload: dict[str, Any]
    message_type = MessageType.call_result

    def to_json(self) -> str:
        return _dumps([int(MessageType.call_result), self.unique_id, self.payload])


@dataclass(frozen=True)
class CallError:
    unique_id: str
    error_code: str
    error_description: str = ""
    error_details: dict[str, Any] = field(default_factory=dict)
    message_type = MessageType.call_error

    def to_json(self) -> str:
        return _dumps(
            [
                int(MessageType.call_error),
                self.unique_id,
                self.error_code,
                self.error_description,
                self.error_details,
            ]
        )

    @classmethod
    def from_exception(cls, unique_id: str, error: OCPPError) -> CallError:
        return cls(unique_id, error.code, error.description, error.details)


Frame = Call | CallResult | CallError


class FrameError(Exception):
    """A frame that cannot be parsed. `unique_id` is set when one could be read, so a CALLERROR
    can be answered; without it the frame can only be logged (OCPP-J 1.6 §4.2.3 needs an id)."""

    def __init__(self, error: OCPPError, unique_id: str | None, message_type: int | None) -> None:
        self.error = error
        self.unique_id = unique_id
        self.message_type = message_type
        super().__init__(error.description)

    @property
    def answerable(self) -> bool:
        # A CALLERROR is only ever an answer to a CALL (OCPP-J 1.6 §4.2.3); a broken
        # CALLRESULT or CALLERROR is logged, never answered.
        return self.unique_id is not None and self.message_type == MessageType.call


def _dumps(value: list) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate read from a `\ud800` escape (a unique id echoed back, say) cannot go
        # into a UTF-8 websocket frame; escaped, the peer reads back the same string.
        return json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    return text


def _violation(cause: str, unique_id: str | None, message_type: int | None) -> FrameError:
    return FrameError(FormationViolation(details={"cause": cause}), unique_id, message_type)


def parse(text: str | bytes) -> Frame:
    """Parse one OCPP-J frame. Raises FrameError; never anything else."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _violation("frame is not valid UTF-8 JSON", None, None) from None
    if not isinstance(data, list) or not data:
        raise _violation("frame is not a JSON array", None, None)

    message_type = data[0] if type(data[0]) is int else None
    unique_id = data[1] if len(data) > 1 and isinstance(data[1], str) else None
    if unique_id is not None and not 0 < len(unique_id) <= MAX_UNIQUE_ID_LENGTH:
        raise _violation(
            f"unique id must be 1-{MAX_UNIQUE_ID_LENGTH} characters", None, message_type
        )
    if message_type not in (MessageType.call, MessageType.call_result, MessageType.call_error):
        raise _violation("unknown message type id", unique_id, message_type)
    if unique_id is None:
        raise _violation("unique id is missing or not a string", None, message_type)
    if _deeper_than(data, MAX_DEPTH):
        raise _violation(f"nested deeper than {MAX_DEPTH} levels", unique_id, message_type)

    if message_type == MessageType.call:
        if len(data) != 4 or not isinstance(data[2], str) or not isinstance(data[3], dict):
            raise _violation("CALL must be [2, id, action, {payload}]", unique_id, message_type)
        return Call(unique_id, data[2], data[3])
    if message_type == MessageType.call_result:
        if len(data) != 3 or not isinstance(data[2], dict):
            raise _violation("CALLRESULT must be [3, id, {payload}]", unique_id, message_type)
        return CallResult(unique_id, data[2])
    # Be lenient with chargers' CALLERRORs: description and details are optional in practice.
    if not 3 <= len(data) <= 5 or not isinstance(data[2], str):
        raise _violation(
            "CALLERROR must be [4, id, code, description, {details}]", unique_id, message_type
        )
    description = data[3] if len(data) > 3 and isinstance(data[3], str) else ""
    details = data[4] if len(data) > 4 and isinstance(data[4], dict) else {}
    return CallError(unique_id, data[2], description, details)


# Message type names as the OCPP-J 1.6 spec writes them (§4.1.3); `invalid` for anything else.
CALL, CALLRESULT, CALLERROR, INVALID = "CALL", "CALLRESULT", "CALLERROR", "invalid"
_TYPE_NAMES = {2: CALL, 3: CALLRESULT, 4: CALLERROR}


class FrameHead(NamedTuple):
    """A frame's message type, unique id and action, read without validating the frame."""

    message_type: str  # CALL, CALLRESULT, CALLERROR or INVALID
    unique_id: str  # "" when there is none to read
    action: str  # a CALL's action; "" for answers and invalid frames


def peek(text: str | bytes) -> FrameHead:
    """The head of `text` for counting and logging (the gateway's metrics, its outbound slot);
    lenient where `parse` is strict, and never raises."""
    try:
        data = jsonutil.loads(text)
    except (ValueError, RecursionError):
        return FrameHead(INVALID, "", "")
    if not isinstance(data, list) or len(data) < 2:
        return FrameHead(INVALID, "", "")
    message_type = _TYPE_NAMES.get(data[0]) if type(data[0]) is int else None
    unique_id = data[1] if isinstance(data[1], str) else ""
    if message_type is None:
        return FrameHead(INVALID, unique_id, "")
    action = data[2] if message_type == CALL and len(data) > 2 and isinstance(data[2], str) else ""
    return FrameHead(message_type, unique_id, action)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels; iterative, so any depth is
    safe to measure."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def is_known_action(action: str) -> bool:
    return action in ALL_ACTIONS
