"""Handle one gateway event (docs/envelope.md): the single entry point of the inbound Celery task."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.db import IntegrityError, InterfaceError, OperationalError, connections, transaction
from django.utils import timezone

from . import admission, conf, metrics, selectors, services
from .clock import parse_charger_time
from .middleware.base import MessageContext
from .middleware.pipeline import get_pipeline
from .models import ChargePoint, Direction, Message, OutboundCall, OutboundCallStatus
from .protocol import Call, CallError, CallResult, FrameError, MessageType, OCPPError, parse
from .protocol import envelope as wire
from .protocol.errors import ActionNotImplemented, InternalError, NotSupported, SecurityError
from .protocol.frames import is_known_action
from .protocol.validation import validate_payload

logger = logging.getLogger(__name__)

TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)
_FIRST_BACKOFF = 0.05
_MAX_BACKOFF = 2.0

# Their answers carry our clock and repeating them has no effect worth avoiding, so a repeated
# unique id is processed afresh (chargers that restart their id counter at boot reuse ids).
_NEVER_REPLAYED_ACTIONS = frozenset({"BootNotification", "Heartbeat"})


class InvalidResponseError(Exception):
    """A middleware answered with a payload its response schema rejects: our bug."""


@dataclass(frozen=True)
class Handled:
    """What processing one event produced: its reply, for the gateway that sent it, and the
    connections other gateways must close (`(reply_to, request)`), once it is committed."""

    reply: wire.Reply
    closes: list[tuple[str, wire.CloseRequest]] = field(default_factory=list)


def handle_inbound(envelope: dict[str, Any]) -> wire.Reply:
    """Process one inbound event and return its one reply, whatever happens (`handle_event`
    without the close requests: a process with a single gateway never needs them)."""
    return handle_event(envelope).reply


def handle_event(envelope: dict[str, Any]) -> Handled:
    """Process one inbound event: its one reply, whatever happens, and the close requests.

    Transient database errors are retried here, within OCPP_DB_RETRY_SECONDS, never through a
    Celery retry (that would re-queue the event behind the charge point's later ones). A
    redelivered event (same `id`) replays its stored answer without a second effect.
    """
    # The one place the workers' outcome is measured (charging/metrics.py).
    started = time.perf_counter()
    handled, failed = _handle_retrying(envelope)
    metrics.observe(envelope, handled.reply, seconds=time.perf_counter() - started, failed=failed)
    return handled


def _handle_retrying(envelope: dict[str, Any]) -> tuple[Handled, bool]:
    """What the event produced, and whether it is the fallback of an event that could not be
    processed."""
    deadline = time.monotonic() + float(conf.get("OCPP_DB_RETRY_SECONDS"))
    backoff = _FIRST_BACKOFF
    while True:
        closes: list[tuple[str, wire.CloseRequest]] = []  # afresh: a failed attempt rolled back
        try:
            return Handled(_handle(envelope, closes), closes), False
        except TRANSIENT_DB_ERRORS as error:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                logger.error(
                    "%s: database unavailable, giving up on %s event %s: %s",
                    envelope.get("cp"),
                    envelope.get("kind"),
                    envelope.get("id"),
                    error,
                )
                return Handled(_fallback_reply(envelope)), True
            logger.warning("%s: database error, retrying: %s", envelope.get("cp"), error)
            _close_connections()
            time.sleep(min(backoff, remaining))
            backoff = min(backoff * 2, _MAX_BACKOFF)
        except Exception:
            logger.exception(
                "%s: %s event %s failed",
                envelope.get("cp"),
                envelope.get("kind"),
                envelope.get("id"),
            )
            return Handled(_fallback_reply(envelope)), True


def _close_connections() -> None:
    # A broken connection must be replaced before the next attempt; one inside an outer
    # atomic block (a test's) is owned by that block and left alone.
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def _fallback_reply(envelope: dict[str, Any]) -> wire.Reply:
    """The reply when the event could not be processed: a CALL still gets its CALLERROR."""
    inbound = cast(wire.Inbound, envelope)
    if envelope.get("kind") != "frame":
        return wire.reply(inbound)
    try:
        frame = parse(envelope.get("text", ""))
    except FrameError as error:
        if not error.answerable:
            return wire.reply(inbound)
        answer = CallError.from_exception(cast(str, error.unique_id), error.error)
        return wire.reply(inbound, send=answer.to_json())
    if isinstance(frame, Call):
        return wire.reply(
            inbound, send=CallError.from_exception(frame.unique_id, InternalError()).to_json()
        )
    return wire.reply(inbound)


def _handle(envelope: dict[str, Any], closes: list[tuple[str, wire.CloseRequest]]) -> wire.Reply:
    inbound = cast(wire.Inbound, envelope)
    kind = envelope["kind"]
    if kind == "handshake":
        return _handle_handshake(inbound)
    received_at = parse_charger_time(envelope.get("at")) or timezone.now()
    if kind == "frame":
        return _handle_frame_event(inbound, received_at)
    with transaction.atomic():
        charge_point = services.charge_point_lock(charge_point_id=envelope["cp"])
        replayed = _replay(inbound)
        if replayed is not None:
            return replayed
        if kind == "connect":
            previous = charge_point.connection_id if charge_point.connected else ""
            previous_reply_to = charge_point.reply_to
            services.charge_point_connected(
                charge_point=charge_point,
                connection_id=envelope["conn"],
                gateway_id=envelope.get("gateway", ""),
                reply_to=envelope.get("reply_to", ""),
                remote=envelope.get("remote") or "",
                subprotocol=envelope.get("subprotocol"),
                at=received_at,
                frame_id=envelope["id"],
            )
            closes.extend(_superseded(charge_point, inbound, previous, previous_reply_to))
        elif kind == "disconnect":
            services.charge_point_disconnected(
                charge_point=charge_point,
                connection_id=envelope["conn"],
                gateway_id=envelope.get("gateway", ""),
                code=envelope.get("code"),
                reason=envelope.get("reason") or "",
                at=received_at,
                frame_id=envelope["id"],
            )
        elif kind == "call_timeout":
            _handle_call_timeout(charge_point, envelope.get("unique_id", ""))
        elif kind == "call_offline":
            _handle_call_offline(charge_point, envelope.get("unique_id", ""))
        else:
            raise ValueError(f"unknown event kind {kind!r}")
    return wire.reply(inbound)


def _handle_handshake(envelope: wire.Inbound) -> wire.Reply:
    """May this websocket open? Decided afresh on redelivery (no lock, nothing replayed): it
    changes nothing but a refusal's event row, or the charge point's key when the charger
    presents the one we are setting (admission). The password is never logged or stored."""
    admission_ = admission.handshake_admit(
        charge_point_id=envelope["cp"],
        username=envelope.get("username"),
        password=envelope.get("password"),
        remote=str(envelope.get("remote") or ""),
        gateway_id=str(envelope.get("gateway") or ""),
    )
    return wire.handshake_reply(
        envelope,
        accept=admission_.accept,
        status=int(admission_.status),
        reason=admission_.reason,
        retry_after=admission_.retry_after,
        authenticated=admission_.authenticated,
    )


def _superseded(
    charge_point: ChargePoint, envelope: wire.Inbound, previous: str, previous_reply_to: str
) -> list[tuple[str, wire.CloseRequest]]:
    """After a `connect`: the connection that lost, when another gateway holds it.

    The newest connection wins (docs/gateway.md). A gateway closes its own older socket of the
    same charge point, but cannot see one on another gateway: that one is told here. A connect
    older than the current connection (delivered late) loses itself.
    """
    conn, reply_to = envelope["conn"], envelope.get("reply_to", "")
    if charge_point.connection_id == conn:  # this connection won
        if previous and previous != conn and previous_reply_to and previous_reply_to != reply_to:
            return [(previous_reply_to, wire.close_request(charge_point.id, previous))]
    elif charge_point.connected and reply_to and charge_point.reply_to != reply_to:
        return [(reply_to, wire.close_request(charge_point.id, conn))]
    return []


class _Redelivered(Exception):
    """Recording the frame broke a unique constraint: most likely its `frame_id`, this event
    having been processed before (a redelivery)."""

    def __init__(self, error: IntegrityError) -> None:
        super().__init__(str(error))
        self.error = error


class _CallFailed(Exception):
    """A middleware failed: its effects must go, the frame and this CALLERROR must stay."""

    def __init__(self, answer: CallError) -> None:
        super().__init__(answer.error_code)
        self.answer = answer


def _handle_frame_event(envelope: wire.Inbound, received_at: datetime) -> wire.Reply:
    """A frame, processed optimistically: a redelivery is noticed by the unique `frame_id` of
    its Message (no lookup before), a failing middleware by an exception that rolls the whole
    transaction back (no savepoint around the pipeline), then the frame is recorded afresh with
    its CALLERROR. Both are rare; the usual frame costs neither a query nor a savepoint."""
    failed: CallError | None = None
    while True:
        try:
            with transaction.atomic():
                charge_point = services.charge_point_lock(charge_point_id=envelope["cp"])
                return _handle_frame(charge_point, envelope, received_at, failed=failed)
        except _Redelivered as redelivered:
            with transaction.atomic():
                services.charge_point_lock(charge_point_id=envelope["cp"])
                replayed = _replay(envelope)
            if replayed is None:  # not the frame's key after all
                raise redelivered.error from None
            return replayed
        except _CallFailed as call_failed:
            failed = call_failed.answer  # once: the next attempt runs no middleware


def _record_inbound(**fields: Any) -> Message:
    """Record a frame of the charger keyed on its event's id (`frame_id`)."""
    try:
        return services.message_record(direction=Direction.IN, **fields)
    except IntegrityError as error:
        # The transaction is broken: leave it at once, and look for the earlier Message afresh.
        raise _Redelivered(error) from error


def _replay(envelope: wire.Inbound) -> wire.Reply | None:
    """The stored reply of an event processed before (a redelivered Celery task), if any."""
    frame_id = envelope["id"]
    # A frame's key is on its Message, a connect's or disconnect's on its ConnectionEvent;
    # call_timeout and call_offline are keyed on nothing: ending an ended call changes nothing.
    if envelope["kind"] != "frame":
        if envelope["kind"] in ("connect", "disconnect") and selectors.connection_event_exists(
            frame_id=frame_id
        ):
            logger.info("%s: event %s redelivered", envelope["cp"], frame_id)
            return wire.reply(envelope)
        return None
    message = selectors.message_get_by_frame_id(frame_id=frame_id)
    if message is not None:
        answer = selectors.message_get_answer(message=message)
        # Calls the charger has answered meanwhile must not be sent twice.
        calls = [
            _wire_call(call)
            for call in selectors.outbound_call_list_for_message(message=message)
            if call.is_pending and call.message is not None
        ]
        logger.info("%s: event %s redelivered, replaying its answer", envelope["cp"], frame_id)
        return wire.reply(envelope, send=answer.raw if answer else None, calls=calls)
    return None


def _wire_call(call: OutboundCall) -> wire.OutboundCall:
    assert call.message is not None
    return {
        "unique_id": call.unique_id,
        "action": call.action,
        "text": call.message.raw,
        "delay": call.delay,
        "timeout": call.timeout,
    }


def _handle_frame(
    charge_point: ChargePoint,
    envelope: wire.Inbound,
    received_at: datetime,
    *,
    failed: CallError | None = None,
) -> wire.Reply:
    """Record and process one frame; `failed`: the CALLERROR its pipeline ended with in an
    attempt rolled back (only the frame and that answer are recorded then)."""
    text = envelope.get("text", "")
    try:
        frame = parse(text)
    except FrameError as error:
        _note_received(
            charge_point,
            envelope,
            received_at,
            call=(error.unique_id or "", "") if error.message_type == MessageType.call else None,
        )
        message = _record_inbound(
            charge_point=charge_point,
            message_type=error.message_type,
            unique_id=error.unique_id or "",
            raw=text if isinstance(text, str) else repr(text),
            error_code=error.error.code,
            error_description=error.error.description,
            error_details=error.error.details,
            frame_id=envelope["id"],
            connection_id=envelope["conn"],
            received_at=received_at,
        )
        logger.warning(
            "%s: bad frame: %s %s", charge_point.id, error.error.code, error.error.details
        )
        if not error.answerable:
            # OCPP-J 1.6 §4.2.3: only a CALL is answered; without a unique id there is nothing to answer.
            return wire.reply(envelope)
        answer = CallError.from_exception(cast(str, error.unique_id), error.error)
        _record_answer(charge_point, message, answer)
        return wire.reply(envelope, send=answer.to_json())
    if isinstance(frame, Call):
        # Compared with the latest CALL before this one takes its place.
        repeated = _find_repeat(charge_point, frame)
        _note_received(charge_point, envelope, received_at, call=(frame.unique_id, frame.action))
        return _handle_call(charge_point, frame, envelope, received_at, repeated, failed)
    _note_received(charge_point, envelope, received_at)
    return _handle_answer(charge_point, frame, envelope, received_at)


def _note_received(
    charge_point: ChargePoint,
    envelope: wire.Inbound,
    received_at: datetime,
    *,
    call: tuple[str, str] | None = None,
) -> None:
    services.charge_point_message_received(
        charge_point=charge_point, at=received_at, connection_id=envelope["conn"], call=call
    )


def _handle_call(
    charge_point: ChargePoint,
    call: Call,
    envelope: wire.Inbound,
    received_at: datetime,
    repeated: tuple[Message, Message] | None,
    failed: CallError | None,
) -> wire.Reply:
    message = _record_inbound(
        charge_point=charge_point,
        message_type=MessageType.call,
        unique_id=call.unique_id,
        action=call.action,
        payload=call.payload,
        frame_id=envelope["id"],
        connection_id=envelope["conn"],
        received_at=received_at,
        note=f"repeat of message {repeated[0].pk}: answered again, not processed"
        if repeated
        else "",
    )
    if repeated is not None:
        stored = repeated[1]
        services.message_record(
            charge_point=charge_point,
            direction=Direction.OUT,
            message_type=stored.message_type,
            unique_id=stored.unique_id,
            action=stored.action,
            payload=stored.payload,
            raw=stored.raw,
            answer_to=message,
            connection_id=envelope["conn"],
        )
        logger.info(
            "%s: repeated %s %s answered again", charge_point.id, call.action, call.unique_id
        )
        return wire.reply(envelope, send=stored.raw)

    if failed is not None:
        _record_answer(charge_point, message, failed)
        return wire.reply(envelope, send=failed.to_json())
    context = MessageContext(
        charge_point=charge_point,
        # PostgreSQL stores no NUL character: middleware see the text as it will be stored.
        call=Call(call.unique_id, call.action, services.clean_json(call.payload)),
        received_at=received_at,
        envelope=dict(envelope),
        message=message,
    )
    answer = _run_pipeline(context)
    _record_answer(charge_point, message, answer)
    calls = [_send_call(call) for call in context.calls]
    return wire.reply(envelope, send=answer.to_json(), calls=calls)


def _find_repeat(charge_point: ChargePoint, call: Call) -> tuple[Message, Message] | None:
    """The CALL this one repeats, and our answer to it.

    A charger sends a CALL again when our answer was lost; it may not send another CALL while one
    is unanswered (OCPP-J 1.6 §4.1.1), so a repeat directly follows the original. Only that
    latest CALL is compared: chargers that reuse unique ids would otherwise be answered stale.
    """
    if call.action in _NEVER_REPLAYED_ACTIONS:
        return None
    # The locked row names the latest CALL: only a likely repeat costs a query.
    if (
        charge_point.last_call_unique_id != call.unique_id
        or charge_point.last_call_action != call.action
    ):
        return None
    previous = selectors.message_get_latest_call(
        charge_point=charge_point, unique_id=call.unique_id, action=call.action
    )
    if previous is None or previous.payload != services.clean_json(call.payload):
        return None
    answer = selectors.message_get_answer(message=previous)
    if answer is None or answer.message_type != MessageType.call_result:
        return None  # a CALLERROR is not replayed: the charger may retry after it
    return previous, answer


def _run_pipeline(context: MessageContext) -> CallResult | CallError:
    call = context.call
    try:
        if not is_known_action(call.action):
            raise ActionNotImplemented(details={"cause": f"unknown action {call.action!r}"})
        pipeline = get_pipeline(call.action, MessageType.call)
        if pipeline is None:
            raise NotSupported(details={"cause": f"{call.action} is not handled here"})
        validate_payload(MessageType.call, call.action, call.payload)
        if call.action in admission.REFUSED_UNTIL_APPROVED and not context.charge_point.approved:
            # OCPP 1.6 §4.2: not Accepted, it should not send this; nothing is granted.
            raise SecurityError(details={"cause": "the charge point is not accepted yet"})
    except OCPPError as error:  # refused before any middleware ran: nothing to undo
        return CallError.from_exception(call.unique_id, error)
    try:
        payload = pipeline(context)
        _check_response(call.action, payload)
    except OCPPError as error:
        # A failing middleware leaves nothing behind but the recorded frames: the attempt is
        # rolled back and the frame recorded again with this answer (_handle_frame_event).
        raise _CallFailed(CallError.from_exception(call.unique_id, error)) from error
    except TRANSIENT_DB_ERRORS:
        raise
    except Exception as error:
        logger.exception("%s: %s %s failed", context.charge_point.id, call.action, call.unique_id)
        # The generic description only: internals never reach the charger.
        raise _CallFailed(CallError.from_exception(call.unique_id, InternalError())) from error
    return CallResult(call.unique_id, payload)


def _check_response(action: str, payload: Any) -> None:
    try:
        validate_payload(MessageType.call_result, action, payload)
    except OCPPError as error:
        raise InvalidResponseError(f"{action} response {payload!r}: {error.details}") from error


def _record_answer(
    charge_point: ChargePoint, message: Message, answer: CallResult | CallError
) -> Message:
    common: dict[str, Any] = {
        "charge_point": charge_point,
        "direction": Direction.OUT,
        "unique_id": answer.unique_id,
        "action": message.action,
        "raw": answer.to_json(),
        "answer_to": message,
        "connection_id": message.connection_id,
    }
    if isinstance(answer, CallResult):
        return services.message_record(
            message_type=MessageType.call_result, payload=answer.payload, **common
        )
    return services.message_record(
        message_type=MessageType.call_error,
        error_code=answer.error_code,
        error_description=answer.error_description,
        error_details=answer.error_details,
        **common,
    )


def _send_call(call: OutboundCall) -> wire.OutboundCall:
    """Record the CALL frame of a requested call and hand it to the gateway with the reply."""
    text = Call(call.unique_id, call.action, call.payload).to_json()
    message = services.message_record(
        charge_point=call.charge_point,
        direction=Direction.OUT,
        message_type=MessageType.call,
        unique_id=call.unique_id,
        action=call.action,
        payload=call.payload,
        raw=text,
        connection_id=call.connection_id,
    )
    services.outbound_call_mark_sent(call=call, message=message)
    return _wire_call(call)


def _handle_answer(
    charge_point: ChargePoint,
    frame: CallResult | CallError,
    envelope: wire.Inbound,
    received_at: datetime,
) -> wire.Reply:
    """A CALLRESULT or CALLERROR of the charger: complete our call. Never answered (OCPP-J 1.6 §4.2.3)."""
    call = selectors.outbound_call_get(charge_point=charge_point, unique_id=frame.unique_id)
    note = ""
    if call is None:
        note = "answer to a unique id we did not send"
    elif not call.is_pending:
        note = f"late answer: the call had already ended ({call.status})"
    _record_inbound(
        charge_point=charge_point,
        message_type=frame.message_type,
        unique_id=frame.unique_id,
        action=call.action if call else "",
        payload=frame.payload if isinstance(frame, CallResult) else None,
        error_code=frame.error_code if isinstance(frame, CallError) else "",
        error_description=frame.error_description if isinstance(frame, CallError) else "",
        error_details=frame.error_details if isinstance(frame, CallError) else None,
        answer_to=call.message if call else None,
        frame_id=envelope["id"],
        connection_id=envelope["conn"],
        note=note,
        received_at=received_at,
    )
    if note:
        logger.warning("%s: %s %s", charge_point.id, note, frame.unique_id)
    if call is None or not call.is_pending:
        return wire.reply(envelope)
    if isinstance(frame, CallResult):
        try:
            validate_payload(MessageType.call_result, call.action, frame.payload)
        except OCPPError as error:
            # The charger's fault, not fatal: keep what it sent, but never as a valid answer.
            services.outbound_call_complete(
                call=call,
                status=OutboundCallStatus.CALL_ERROR,
                response=frame.payload,
                error_code=error.code,
                error_description=f"invalid CALLRESULT: {error.details.get('cause', error)}",
            )
        else:
            services.outbound_call_complete(
                call=call, status=OutboundCallStatus.ANSWERED, response=frame.payload
            )
    else:
        services.outbound_call_complete(
            call=call,
            status=OutboundCallStatus.CALL_ERROR,
            response=frame.error_details or None,
            error_code=frame.error_code,
            error_description=frame.error_description,
        )
    return wire.reply(envelope)


def _handle_call_timeout(charge_point: ChargePoint, unique_id: str) -> None:
    call = selectors.outbound_call_get(charge_point=charge_point, unique_id=unique_id)
    if call is None:
        logger.warning("%s: timeout of unknown call %s", charge_point.id, unique_id)
        return
    # A call already answered (the answer overtook the timeout) keeps its answer.
    services.outbound_call_complete(call=call, status=OutboundCallStatus.TIMEOUT)


def _handle_call_offline(charge_point: ChargePoint, unique_id: str) -> None:
    """A command reached a gateway that no longer holds the charge point (docs/envelope.md)."""
    call = selectors.outbound_call_get(charge_point=charge_point, unique_id=unique_id)
    if call is None:
        logger.warning("%s: offline report of unknown call %s", charge_point.id, unique_id)
        return
    services.outbound_call_complete(
        call=call,
        status=OutboundCallStatus.OFFLINE,
        error_description="the gateway no longer held the charge point",
    )
