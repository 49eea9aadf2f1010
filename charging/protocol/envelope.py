"""The messages the gateway and the workers exchange over RabbitMQ (see docs/envelope.md).

This module is the whole contract between `gateway/` and `tasks/`: both sides build and read
envelopes only through it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NotRequired, TypedDict
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import jsonutil

VERSION = 1

# The broker of every process when AMQP_URL is unset (an empty AMQP_URL means none: Django runs
# tasks in the calling process, README "Configuration"). The pika-style retry options are read
# by `amqp_retry_options`: the first connection waits up to 20 s for a broker still starting.
DEFAULT_AMQP_URL = "amqp://guest:guest@localhost:5672/%2F?connection_attempts=20&retry_delay=1"
_RETRY_OPTIONS = ("connection_attempts", "retry_delay")

# Celery task that consumes inbound envelopes (every event kind, frames among them: the name is
# from before; messages in flight during a rolling upgrade name it), and where it is published.
INBOUND_TASK = "levity.handle_frame"
INBOUND_EXCHANGE = "levity.cp"  # topic exchange
INBOUND_QUEUE = "cp.*"  # literal name: `celery -A celery_app worker -Q cp.*`
INBOUND_BINDING = "cp.#"  # `#`, not `*`: charge point ids may contain dots
# `cp.*` is a priority queue (x-max-priority) so that housekeeping (beat's periodic tasks) is
# taken ahead of a backlog of events instead of expiring behind it; every event has priority 0,
# so one charge point's events stay in order.
INBOUND_MAX_PRIORITY = 1
HOUSEKEEPING_PRIORITY = 1
GATEWAY_QUEUE_PREFIX = "levity.gw."
# Commands: each gateway binds its queue here with routing key = charge point id while it holds
# that charge point; workers publish `CallRequest`s `mandatory`, so "not connected" comes back.
CALLS_EXCHANGE = "levity.calls"  # direct
SEND_CALL_TASK = "levity.send_call"
# Presence (docs/envelope.md, "Presence"): each gateway keeps a Redis key with a TTL alive while
# it runs; the workers take a gateway whose key expired for dead and its charge points offline.
GATEWAY_LEASE_PREFIX = "levity:gateway:"
DEFAULT_PRESENCE_TTL = 30.0  # seconds; gateways renew their lease every TTL / 3


def amqp_retry_options(url: str) -> tuple[str, int, float]:
    """`url` without pika-style `connection_attempts` and `retry_delay` (kombu refuses them,
    aio-pika ignores them), and their values: the attempts at a first connection (1 when absent)
    and the seconds between them (2)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = dict(query)
    attempts = int(options.get("connection_attempts", "1"))
    delay = float(options.get("retry_delay", "2"))
    kept = urlencode([(k, v) for k, v in query if k not in _RETRY_OPTIONS])
    return urlunsplit(parts._replace(query=kept)), max(attempts, 1), max(delay, 0.0)


Kind = Literal[
    "frame", "connect", "disconnect", "call_timeout", "call_offline", "call_due", "handshake"
]


class Inbound(TypedDict):
    """Gateway → worker: one event of one websocket connection."""

    v: int
    id: str  # unique per event; the worker's idempotency key
    kind: Kind
    cp: str  # charge point id
    conn: str  # websocket connection id (one per accepted socket)
    gateway: str
    reply_to: str  # the gateway's exclusive queue
    at: str  # ISO-8601 UTC, when the gateway received it
    text: NotRequired[str]  # kind=frame: the frame as received
    unique_id: NotRequired[str]  # kind=call_timeout/call_offline/call_due: our CALL
    expires: NotRequired[str]  # kind=frame CALLs: ISO time after which workers skip it
    code: NotRequired[int]  # kind=disconnect: websocket close code
    reason: NotRequired[str]  # kind=disconnect
    remote: NotRequired[str]  # kind=connect/handshake: peer address
    subprotocol: NotRequired[str | None]  # kind=connect
    # kind=handshake (before the websocket is accepted; `conn` is ""): the HTTP Basic
    # credentials, None when the request carried none. Only ever on the internal broker.
    username: NotRequired[str | None]
    password: NotRequired[str | None]


class OutboundCall(TypedDict):
    """A CALL the gateway must send to the charge point, one outstanding at a time."""

    unique_id: str
    action: str
    text: str  # the CALL frame, ready to send
    delay: float  # seconds to wait before queueing it (Grizzl-E needs a pause)
    timeout: float  # seconds to wait for the answer before reporting call_timeout
    # True: once its delay ran out the gateway asks (a `call_due` event) instead of queueing it;
    # the reply carries it again, without delay, only if it is still wanted.
    confirm: NotRequired[bool]


class Reply(TypedDict):
    """Worker → gateway: what to do after processing one inbound event."""

    v: int
    id: str  # the Inbound id this answers; releases the connection's next frame
    cp: str
    conn: str
    send: str | None  # a frame to write to the socket (CALLRESULT/CALLERROR), if any
    calls: list[OutboundCall]
    # Answers to a `handshake` event only: upgrade to a websocket (True) or refuse with HTTP
    # `status` (401 credentials, 404 unknown charge point, 429 too many failures: retry after
    # `retry_after` seconds) and a short `reason`; `authenticated`: accepted with its key.
    accept: NotRequired[bool]
    status: NotRequired[int]
    reason: NotRequired[str]
    retry_after: NotRequired[int]
    authenticated: NotRequired[bool]


class CallRequest(TypedDict):
    """Worker → gateway holding `cp`: queue this CALL on the charge point's outbound FIFO."""

    v: int
    type: Literal["call"]
    cp: str
    call: OutboundCall


class CloseRequest(TypedDict):
    """Worker → the gateway holding an older connection of `cp`: close it, a newer connection
    of the charge point won (on another gateway, which cannot know about this one)."""

    v: int
    type: Literal["close"]
    cp: str
    conn: str  # the connection to close; a gateway holding another connection of `cp` ignores it
    code: int  # websocket close code
    reason: str


REPLACED_CODE = 1000
REPLACED_REASON = "replaced by a newer connection"


def close_request(charge_point_id: str, conn: str) -> CloseRequest:
    return {
        "v": VERSION,
        "type": "close",
        "cp": charge_point_id,
        "conn": conn,
        "code": REPLACED_CODE,
        "reason": REPLACED_REASON,
    }


def call_request(charge_point_id: str, call: OutboundCall) -> CallRequest:
    return {"v": VERSION, "type": "call", "cp": charge_point_id, "call": call}


def routing_key(charge_point_id: str) -> str:
    return f"cp.{charge_point_id}"


def gateway_queue(gateway_id: str) -> str:
    return f"{GATEWAY_QUEUE_PREFIX}{gateway_id}"


def gateway_lease_key(gateway_id: str) -> str:
    return GATEWAY_LEASE_PREFIX + gateway_id


def new_id() -> str:
    return uuid.uuid4().hex


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def expires_after(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def inbound(
    kind: Kind, *, cp: str, conn: str, gateway: str, reply_to: str, **fields: Any
) -> Inbound:
    envelope: dict[str, Any] = {
        "v": VERSION,
        "id": new_id(),
        "kind": kind,
        "cp": cp,
        "conn": conn,
        "gateway": gateway,
        "reply_to": reply_to,
        "at": now_iso(),
    }
    envelope.update(fields)
    return envelope  # type: ignore[return-value]


def reply(
    envelope: Inbound, *, send: str | None = None, calls: list[OutboundCall] | None = None
) -> Reply:
    return {
        "v": VERSION,
        "id": envelope["id"],
        "cp": envelope["cp"],
        "conn": envelope["conn"],
        "send": send,
        "calls": calls or [],
    }


def handshake_reply(
    envelope: Inbound,
    *,
    accept: bool,
    status: int = 101,
    reason: str = "",
    retry_after: int = 0,
    authenticated: bool = False,
) -> Reply:
    """The answer to a `handshake` event: accept, or refuse with HTTP `status`."""
    answer = reply(envelope)
    answer["accept"] = accept
    answer["status"] = status
    answer["reason"] = reason
    answer["retry_after"] = retry_after
    answer["authenticated"] = authenticated
    return answer


def celery_message(envelope: Inbound) -> tuple[bytes, dict[str, Any], dict[str, Any]]:
    """Body, headers and AMQP properties of a Celery protocol-2 task message carrying `envelope`,
    so the asyncio gateway can publish it without Celery (whose publishing blocks)."""
    task_id = envelope["id"]
    body = jsonutil.dumps(
        [
            [],
            {"envelope": envelope},
            {"callbacks": None, "errbacks": None, "chain": None, "chord": None},
        ]
    )
    headers = {
        "lang": "py",
        "task": INBOUND_TASK,
        "id": task_id,
        "root_id": task_id,
        "parent_id": None,
        "group": None,
        "retries": 0,
        "eta": None,
        # Celery discards a task received after this (the charger was answered InternalError).
        "expires": envelope.get("expires"),
        "timelimit": [None, None],
        "argsrepr": "()",
        "kwargsrepr": f"{{'envelope': <{envelope['kind']} {envelope['cp']}>}}",
        "origin": f"gateway@{envelope['gateway']}",
        "ignore_result": True,
    }
    properties: dict[str, Any] = {
        "correlation_id": task_id,
        "content_type": "application/json",
        "content_encoding": "utf-8",
    }
    if envelope.get("expires"):
        # The broker drops the message itself once it expires (per-message TTL, in seconds
        # here): discarding them one by one in a worker was slower than chargers retry after a
        # long worker outage, and the backlog never drained (issue 14, point 4).
        remaining = datetime.fromisoformat(envelope["expires"]) - datetime.now(UTC)
        properties["expiration"] = max(0.0, remaining.total_seconds())
    return body, headers, properties


def encode(message: Reply | Inbound | CallRequest | CloseRequest) -> bytes:
    return jsonutil.dumps(message)


def decode(body: bytes) -> dict[str, Any]:
    return jsonutil.loads(body)
