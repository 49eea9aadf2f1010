"""Answers from memory, as the baseline gives them: the echo worker's logic
(benchmarks/load/echo_worker.py), pure so that it is tested without touching the Celery app."""

from __future__ import annotations

import itertools
from typing import Any

from charging.protocol import Call, CallError, CallResult, FrameError, MessageType, OCPPError, parse
from charging.protocol import envelope as env
from charging.protocol.validation import validate_payload

_transaction_ids = itertools.count(1)


def _answer(action: str) -> dict[str, Any]:
    now = env.now_iso()
    accepted = {"status": "Accepted"}
    if action == "BootNotification":
        return {"status": "Accepted", "currentTime": now, "interval": 300}
    if action == "Heartbeat":
        return {"currentTime": now}
    if action == "Authorize":
        return {"idTagInfo": accepted}
    if action == "StartTransaction":
        return {"transactionId": next(_transaction_ids), "idTagInfo": accepted}
    if action == "StopTransaction":
        return {"idTagInfo": accepted}
    return {}


def answer(envelope: env.Inbound) -> str | None:
    """The frame a charger gets back for this event: a CALL's CALLRESULT or CALLERROR."""
    if envelope["kind"] != "frame":
        return None
    try:
        frame = parse(envelope.get("text", ""))
    except FrameError as error:
        if not error.answerable:
            return None
        return CallError.from_exception(str(error.unique_id), error.error).to_json()
    if not isinstance(frame, Call):
        return None
    try:
        validate_payload(MessageType.call, frame.action, frame.payload)
    except OCPPError as error:
        return CallError.from_exception(frame.unique_id, error).to_json()
    return CallResult(frame.unique_id, _answer(frame.action)).to_json()
