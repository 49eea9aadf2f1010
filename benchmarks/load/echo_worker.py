"""The transport alone: the project's Celery app with `levity.handle_frame` replaced by an
answer from memory (no database), for `--systems transport`.

    celery -A benchmarks.load.echo_worker worker -Q cp.* -c 2 -P prefork

Everything else is as in production: the gateway, RabbitMQ, the `cp.*` queue, acks_late,
prefetch 1, one task per frame, the reply published to the gateway's queue. A CALL is parsed
and its payload checked against the 1.6 schema, as the baseline does, then answered with what
the baseline answers. What this reaches is the ceiling of the design on the machine: the
throughput left once the database work is gone.
"""

from __future__ import annotations

import itertools
from typing import Any

from celery_app import app
from charging.protocol import Call, CallError, CallResult, FrameError, MessageType, OCPPError, parse
from charging.protocol import envelope as env
from charging.protocol.validation import validate_payload
from tasks import replies

app.conf.imports = []  # not the real tasks: the name below is ours here

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


@app.task(name=env.INBOUND_TASK, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def handle_frame(envelope: env.Inbound) -> None:
    replies.send(env.reply(envelope, send=answer(envelope)), reply_to=envelope["reply_to"])
