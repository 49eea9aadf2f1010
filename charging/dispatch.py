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
from .models import ChargePoint, ConnectionRoute, Direction, Message, OutboundCallStatus
from .protocol import Call, CallError, CallResult, FrameError, MessageType, OCPPError, parse
from .protocol import envelope as wire
from .protocol.errors import ActionNotImplemented, InternalError, NotSupported
from .protocol.frames import Frame, is_known_action
from .protocol.validation import Violation, validate_answer, validate_call, validate_payload

logger = logging.getLogger(__name__)

TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)
_FIRST_BACKOFF = 0.05
_MAX_BACKOFF = 2.0


class InvalidResponseError(Exception):
    """A handler or middleware answered with a payload its response schema rejects: our bug."""


@dataclass(frozen=True)
class Handled:
    """What processing one event produced: its reply, for the gateway that sent it, and the
    connections other gateways must close (`(reply_to, request)`), once it is committed."""

    reply: wire.Reply
    closes: list[tuple[str, wire.CloseRequest]] = field(default_factory=list)
    labels: metrics.Labels | None = None  # how it is counted, when the dispatch knew it


@dataclass
class _Attempt:
    """What one attempt at an event produced besides its reply (afresh for each attempt: a
    failed one was rolled back)."""

    closes: list[tuple[str, wire.CloseRequest]] = field(default_factory=list)
    labels: metrics.Labels | None = None


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
    labels = handled.labels or metrics.event_labels(envelope, handled.reply, failed=failed)
    metrics.observe(labels, seconds=time.perf_counter() - started)
    return handled


def _handle_retrying(envelope: dict[str, Any]) -> tuple[Handled, bool]:
    """What the event produced, and whether it is the fallback of an event that could not be
    processed."""
    deadline = time.monotonic() + float(conf.get("OCPP_DB_RETRY_SECONDS"))
    backoff = _FIRST_BACKOFF
    while True:
        attempt = _Attempt()
        try:
            reply = _handle(envelope, attempt)
            return Handled(reply, attempt.closes, attempt.labels), False
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


def _handle(envelope: dict[str, Any], attempt: _Attempt) -> wire.Reply:
    inbound = cast(wire.Inbound, envelope)
    kind = envelope["kind"]
    if kind == "handshake":
        return _handle_handshake(inbound)
    received_at = parse_charger_time(envelope.get("at")) or timezone.now()
    if kind == "frame":
        return _handle_frame_event(inbound, received_at, attempt)
    if kind in ("connect", "disconnect"):
        return _handle_connection_event(inbound, received_at, attempt)
    with transaction.atomic():
        charge_point = services.charge_point_lock(charge_point_id=envelope["cp"])
        # call_timeout and call_offline are keyed on nothing: ending an ended call changes
        # nothing; a call_due hands over only a call still waiting.
        if kind == "call_timeout":
            _handle_call_timeout(charge_point, envelope.get("unique_id", ""))
        elif kind == "call_offline":
            _handle_call_offline(charge_point, envelope.get("unique_id", ""))
        elif kind == "call_due":
            return wire.reply(inbound, calls=_handle_call_due(charge_point, envelope))
        else:
            raise ValueError(f"unknown event kind {kind!r}")
    return wire.reply(inbound)


def _handle_connection_event(
    envelope: wire.Inbound, received_at: datetime, attempt: _Attempt
) -> wire.Reply:
    """A connect or disconnect, recorded once: a redelivery is noticed by the unique `frame_id`
    of its ConnectionEvent (no lookup before, as for frames) and changes nothing."""
    try:
        with transaction.atomic():
            charge_point = services.charge_point_lock(charge_point_id=envelope["cp"])
            if envelope["kind"] == "connect":
                previous = charge_point.connection_id if charge_point.connected else ""
                services.charge_point_connected(
                    charge_point=charge_point,
                    connection_id=envelope["conn"],
                    gateway_id=envelope.get("gateway", ""),
                    remote=envelope.get("remote") or "",
                    subprotocol=envelope.get("subprotocol"),
                    at=received_at,
                    frame_id=envelope["id"],
                )
                attempt.closes.extend(_routed(charge_point, envelope, previous))
            else:
                services.charge_point_disconnected(
                    charge_point=charge_point,
                    connection_id=envelope["conn"],
                    gateway_id=envelope.get("gateway", ""),
                    code=envelope.get("code"),
                    reason=envelope.get("reason") or "",
                    at=received_at,
                    frame_id=envelope["id"],
                )
    except IntegrityError:
        # Rolled back; most likely the event's own earlier record (a redelivered task).
        if not selectors.connection_event_exists(frame_id=envelope["id"]):
            raise
        attempt.closes.clear()
        logger.info("%s: event %s redelivered", envelope["cp"], envelope["id"])
    return wire.reply(envelope)


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


def _route_reply_to(charge_point: ChargePoint) -> str:
    """The reply queue of the gateway holding the charge point's current connection."""
    route = ConnectionRoute.objects.filter(pk=charge_point.pk).values_list("reply_to", flat=True)
    return route.first() or ""


def _routed(
    charge_point: ChargePoint, envelope: wire.Inbound, previous: str
) -> list[tuple[str, wire.CloseRequest]]:
    """After a `connect`: the connection's route when it won, and the connection that lost,
    when another gateway holds it.

    The newest connection wins (docs/gateway.md). A gateway closes its own older socket of the
    same charge point, but cannot see one on another gateway: that one is told here. A connect
    older than the current connection (delivered late) loses itself.
    """
    conn, reply_to = envelope["conn"], services.clean_text(envelope.get("reply_to", ""))[:255]
    # The route is read only when a connection lost (a charger that was offline needs none).
    if charge_point.connection_id == conn:  # this connection won
        # Read before the route is replaced: the gateway that held the connection that lost.
        lost_to = _route_reply_to(charge_point) if previous and previous != conn else ""
        ConnectionRoute.objects.bulk_create(
            [ConnectionRoute(charge_point=charge_point, reply_to=reply_to)],
            update_conflicts=True,
            unique_fields=["charge_point"],
            update_fields=["reply_to"],
        )
        if lost_to and lost_to != reply_to:
            return [(lost_to, wire.close_request(charge_point.id, previous))]
    elif charge_point.connected and reply_to and _route_reply_to(charge_point) != reply_to:
        return [(reply_to, wire.close_request(charge_point.id, conn))]
    return []


class _Redelivered(Exception):
    """Recording the frame broke a unique constraint: most likely its `frame_id`, this event
    having been processed before (a redelivery)."""

    def __init__(self, error: IntegrityError) -> None:
        super().__init__(str(error))
        self.error = error


class _CallFailed(Exception):
    """The pipeline failed: its effects must go, the frame and this CALLERROR must stay."""

    def __init__(self, answer: CallError) -> None:
        super().__init__(answer.error_code)
        self.answer = answer


def _handle_frame_event(
    envelope: wire.Inbound, received_at: datetime, attempt: _Attempt
) -> wire.Reply:
    """A frame, processed optimistically: a redelivery is noticed by the unique `frame_id` of
    its Message (no lookup before), a failing pipeline by an exception that rolls the whole
    transaction back (no savepoint around the pipeline), then the frame is recorded afresh with
    its CALLERROR. Both are rare; the usual frame costs neither a query nor a savepoint."""
    try:
        frame: Frame | FrameError = parse(envelope.get("text", ""))
    except FrameError as error:
        frame = error
    failed: CallError | None = None
    while True:
        try:
            with transaction.atomic():
                inbound = _inbound_message(frame, envelope, received_at)
                try:
                    charge_point = services.charge_point_lock_received(
                        charge_point_id=envelope["cp"],
                        at=received_at,
                        connection_id=envelope["conn"],
                        call=_call_key(frame),
                        inbound=inbound,
                    )
                except IntegrityError as error:  # the frame's Message, stored before
                    raise _Redelivered(error) from error
                return _handle_frame(
                    charge_point, frame, envelope, received_at, attempt, inbound, failed=failed
                )
        except _Redelivered as redelivered:
            with transaction.atomic():
                services.charge_point_lock(charge_point_id=envelope["cp"])
                replayed = _replay(envelope)
            if replayed is None:  # not the frame's key after all
                raise redelivered.error from None
            return replayed
        except _CallFailed as call_failed:
            failed = call_failed.answer  # once: the next attempt runs no pipeline


def _call_key(frame: Frame | FrameError) -> tuple[str, str] | None:
    """The unique id and action a frame names when it is a CALL, even a broken one."""
    if isinstance(frame, Call):
        return frame.unique_id, frame.action
    if isinstance(frame, FrameError) and frame.message_type == MessageType.call:
        return frame.unique_id or "", ""
    return None


def _inbound_message(
    frame: Frame | FrameError, envelope: wire.Inbound, received_at: datetime
) -> Message | None:
    """The unsaved Message of a CALL or of a frame that could not be read, stored with the
    charge point's lock (one statement on PostgreSQL); an answer's is stored once the CALL it
    answers is found."""
    common: dict[str, Any] = {
        "charge_point_id": envelope["cp"],
        "direction": Direction.IN,
        "frame_id": envelope["id"],
        "connection_id": envelope["conn"],
        "received_at": received_at,
    }
    if isinstance(frame, Call):
        return services.message_build(
            message_type=MessageType.call,
            unique_id=frame.unique_id,
            action=frame.action,
            payload=frame.payload,
            **common,
        )
    if isinstance(frame, FrameError):
        text = envelope.get("text", "")
        return services.message_build(
            message_type=frame.message_type,
            unique_id=frame.unique_id or "",
            raw=text if isinstance(text, str) else repr(text),
            error_code=frame.error.code,
            error_description=frame.error.description,
            error_details=frame.error.details,
            **common,
        )
    return None


def _record_inbound(**fields: Any) -> Message:
    """Record a frame of the charger keyed on its event's id (`frame_id`)."""
    try:
        return services.message_record(direction=Direction.IN, **fields)
    except IntegrityError as error:
        # The transaction is broken: leave it at once, and look for the earlier Message afresh.
        raise _Redelivered(error) from error


def _replay(envelope: wire.Inbound) -> wire.Reply | None:
    """The stored reply of a frame processed before (a redelivered Celery task), if any."""
    frame_id = envelope["id"]
    message = selectors.message_get_by_frame_id(frame_id=frame_id)
    if message is not None:
        answer = selectors.message_get_answer(message=message)
        # Calls the charger has answered meanwhile must not be sent twice.
        calls = [
            services.outbound_call_wire(call)
            for call in selectors.outbound_call_list_for_message(message=message)
            if call.is_pending and call.message is not None
        ]
        logger.info("%s: event %s redelivered, replaying its answer", envelope["cp"], frame_id)
        return wire.reply(envelope, send=answer.raw if answer else None, calls=calls)
    return None


def _handle_frame(
    charge_point: ChargePoint,
    frame: Frame | FrameError,
    envelope: wire.Inbound,
    received_at: datetime,
    attempt: _Attempt,
    inbound: Message | None,
    *,
    failed: CallError | None = None,
) -> wire.Reply:
    """Process one frame (parsed, or the error parsing it raised) of the locked `charge_point`,
    whose Message is `inbound` (stored with the lock) unless it is an answer; `failed`: the
    CALLERROR its pipeline ended with in an attempt rolled back (only the frame and that answer
    are recorded then)."""
    if isinstance(frame, FrameError):
        error = frame
        assert inbound is not None
        message = inbound
        logger.warning(
            "%s: bad frame: %s %s", charge_point.id, error.error.code, error.error.details
        )
        attempt.labels = metrics.invalid_labels(error)
        if not error.answerable:
            # OCPP-J 1.6 §4.2.3: only a CALL is answered; without a unique id there is nothing to answer.
            return wire.reply(envelope)
        answer = CallError.from_exception(cast(str, error.unique_id), error.error)
        _record_answer(charge_point, message, answer)
        return wire.reply(envelope, send=answer.to_json())
    if isinstance(frame, Call):
        assert inbound is not None
        repeated = _find_repeat(charge_point, frame, inbound)
        return _handle_call(
            charge_point, frame, envelope, received_at, inbound, repeated, failed, attempt
        )
    return _handle_answer(charge_point, frame, envelope, received_at, attempt)


def _handle_call(
    charge_point: ChargePoint,
    call: Call,
    envelope: wire.Inbound,
    received_at: datetime,
    message: Message,
    repeated: tuple[Message, Message] | None,
    failed: CallError | None,
    attempt: _Attempt,
) -> wire.Reply:
    if repeated is not None:
        message.note = f"repeat of message {repeated[0].pk}: answered again, not processed"
        message.save(update_fields=["note"])
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
        attempt.labels = metrics.call_labels(call.action, None)
        return wire.reply(envelope, send=stored.raw)

    if failed is not None:
        _record_answer(charge_point, message, failed)
        attempt.labels = metrics.call_labels(call.action, failed)
        return wire.reply(envelope, send=failed.to_json())
    context = MessageContext(
        charge_point=charge_point,
        # PostgreSQL stores no NUL character: the pipeline sees the text as it will be stored.
        call=Call(call.unique_id, call.action, services.clean_json(call.payload)),
        received_at=received_at,
        envelope=dict(envelope),
        message=message,
    )
    answer = _run_pipeline(context)
    _record_answer(charge_point, message, answer)
    attempt.labels = metrics.call_labels(call.action, answer)
    calls = [
        services.outbound_call_hand_over(call=call, connection_id=call.connection_id, sent=True)
        for call in context.calls
    ]
    return wire.reply(envelope, send=answer.to_json(), calls=calls)


def _find_repeat(
    charge_point: ChargePoint, call: Call, message: Message
) -> tuple[Message, Message] | None:
    """The CALL this one (stored as `message`) repeats, and our answer to it.

    A charger sends a CALL again when our answer was lost; it may not send another CALL while one
    is unanswered (OCPP-J 1.6 §4.1.1), so a repeat directly follows the original. Only that
    latest CALL is compared: chargers that reuse unique ids would otherwise be answered stale.
    """
    if services.action_never_replayed(call.action):
        return None
    # The locked row compared this CALL with the latest before it: only a likely repeat costs
    # a query.
    if not charge_point.last_call_repeat:
        return None
    previous = selectors.message_get_latest_call(
        charge_point=charge_point,
        unique_id=services.clean_key(call.unique_id),
        action=services.clean_key(call.action),
        before=message,
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
        mode = selectors.charge_point_validation_mode(charge_point=context.charge_point)
        payload, violations = validate_call(call.action, call.payload, mode)
        if violations:
            _note_violations(context.message, call.action, violations, context.envelope)
            context.call = call = Call(call.unique_id, call.action, payload)
    except OCPPError as error:  # refused before the pipeline ran: nothing to undo
        return CallError.from_exception(call.unique_id, error)
    try:
        payload = pipeline(context)
        _check_response(call.action, payload)
    except OCPPError as error:
        # A failing pipeline leaves nothing behind but the recorded frames: the attempt is
        # rolled back and the frame recorded again with this answer (_handle_frame_event).
        raise _CallFailed(CallError.from_exception(call.unique_id, error)) from error
    except TRANSIENT_DB_ERRORS:
        raise
    except Exception as error:
        logger.exception("%s: %s %s failed", context.charge_point.id, call.action, call.unique_id)
        # The generic description only: internals never reach the charger.
        raise _CallFailed(CallError.from_exception(call.unique_id, InternalError())) from error
    return CallResult(call.unique_id, payload)


def _note_violations(
    message: Message | None, action: str, violations: list[Violation], envelope: dict[str, Any]
) -> None:
    """Lenient validation accepted these: kept on the frame's Message, with its text, and counted."""
    if message is not None:
        services.message_record_violations(
            message=message, violations=violations, raw=envelope.get("text", "")
        )
    metrics.observe_soft_violations(action=action, violations=violations)


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


def _handle_answer(
    charge_point: ChargePoint,
    frame: CallResult | CallError,
    envelope: wire.Inbound,
    received_at: datetime,
    attempt: _Attempt,
) -> wire.Reply:
    """A CALLRESULT or CALLERROR of the charger: complete our call. Never answered (OCPP-J 1.6 §4.2.3)."""
    call = selectors.outbound_call_get(charge_point=charge_point, unique_id=frame.unique_id)
    note = ""
    late = call is not None and call.status in services.OUTBOUND_CALL_ANSWER_REPLACES
    if call is None:
        note = "answer to a unique id we did not send"
    elif late:
        # Housekeeping or a closed connection ended it while this answer was on its way (a
        # long worker outage): the charger did answer, so the answer counts, effects included.
        note = f"late answer: it replaces the call's {call.status}"
    elif not call.is_pending:
        note = f"late answer: the call had already ended ({call.status})"
    message = _record_inbound(
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
    attempt.labels = metrics.answer_labels(frame, call.action if call else "")
    if call is None or not (call.is_pending or late):
        return wire.reply(envelope)
    if isinstance(frame, CallResult):
        try:
            mode = selectors.charge_point_validation_mode(charge_point=charge_point)
            response, violations = validate_answer(call.action, frame.payload, mode)
        except OCPPError as error:
            # The charger's fault, not fatal: keep what it sent, but never as a valid answer.
            services.outbound_call_complete(
                call=call,
                status=OutboundCallStatus.CALL_ERROR,
                response=frame.payload,
                error_code=error.code,
                error_description=f"invalid CALLRESULT: {error.details.get('cause', error)}",
                late_answer=late,
            )
        else:
            if violations:
                _note_violations(message, call.action, violations, dict(envelope))
            services.outbound_call_complete(
                call=call,
                status=OutboundCallStatus.ANSWERED,
                response=response,
                late_answer=late,
            )
    else:
        services.outbound_call_complete(
            call=call,
            status=OutboundCallStatus.CALL_ERROR,
            response=frame.error_details or None,
            error_code=frame.error_code,
            error_description=frame.error_description,
            late_answer=late,
        )
    return wire.reply(envelope)


def _handle_call_timeout(charge_point: ChargePoint, unique_id: str) -> None:
    call = selectors.outbound_call_get(charge_point=charge_point, unique_id=unique_id)
    if call is None:
        logger.warning("%s: timeout of unknown call %s", charge_point.id, unique_id)
        return
    # A call already answered (the answer overtook the timeout) keeps its answer.
    services.outbound_call_complete(call=call, status=OutboundCallStatus.TIMEOUT)


def _handle_call_due(
    charge_point: ChargePoint, envelope: dict[str, Any]
) -> list[wire.OutboundCall]:
    """A delayed call with `confirm` is due (docs/envelope.md): send it now, or not at all.

    Decided afresh on a redelivery: the gateway applies only the first reply to an event."""
    call = selectors.outbound_call_get(
        charge_point=charge_point, unique_id=envelope.get("unique_id", "")
    )
    if call is None or call.message is None or call.connection_id != envelope["conn"]:
        return []  # unknown, or meant for an older connection (ended `offline` with it)
    call.charge_point = charge_point  # the locked row: its check reads it without a query
    if not services.outbound_call_confirm(call=call):
        return []
    wired = services.outbound_call_wire(call)
    wired["delay"] = 0.0
    wired.pop("confirm", None)
    return [wired]


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
