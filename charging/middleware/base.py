"""The pipeline contract: a context per inbound CALL, the Middleware that wrap the rest of a chain
and the Handler that ends it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from charging.protocol import Call, MessageType, OCPPError
from charging.protocol.validation import validate_payload

if TYPE_CHECKING:
    from charging.models import ChargePoint, Message, OutboundCall

# Models and services are imported inside functions throughout this package, so that a settings
# module may import middleware classes for OCPP_MIDDLEWARE before Django's apps are loaded.

Payload = dict[str, Any]
# What a middleware wraps: the rest of its chain, called like a middleware.
GetResponse = Callable[["MessageContext"], Payload]


@dataclass
class MessageContext:
    """What one inbound CALL's middleware chain works on; per-message state lives here."""

    charge_point: ChargePoint  # locked (select_for_update) for the whole event
    call: Call
    received_at: datetime
    envelope: dict[str, Any]
    message: Message | None = None  # the stored inbound CALL
    calls: list[OutboundCall] = field(default_factory=list)

    def send_call(
        self,
        action: str,
        payload: Payload,
        *,
        delay: float = 0.0,
        flow: str = "",
        requested_by: str = "",
    ) -> OutboundCall:
        """Record a CALL to the charge point; it goes out with the reply to this message.

        What its action does when it ends is registered by name (services.outbound_actions);
        `flow` names a registered flow of its own instead (its `on_end`, and for a delayed
        call its `confirm`, asked when the delay ran out).
        """
        try:
            validate_payload(MessageType.call, action, payload)
        except OCPPError as error:
            # Our own bug, not the charger's: dispatch answers it as InternalError.
            raise ValueError(f"invalid {action} payload: {error.details or error}") from error
        from charging import services

        call = services.outbound_call_create(
            charge_point=self.charge_point,
            action=action,
            payload=payload,
            delay=delay,
            flow=flow,
            requested_by=requested_by or f"{self.call.action} {self.call.unique_id}",
            connection_id=self.envelope.get("conn", ""),
            source_message=self.message,
        )
        self.calls.append(call)
        return call


class Middleware:
    """Django-style middleware: built once around the rest of its chain, called once per CALL.

    Return `self.get_response(context)` to pass the CALL on (before or after work of its own),
    or a response payload to answer it here. Raise an `OCPPError` to answer a CALLERROR with its
    code. Keep no per-message state on self.
    """

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, context: MessageContext) -> Payload:
        return self.get_response(context)


class Handler:
    """The end of a chain: answers the CALL and never passes it on, so nothing may follow it in
    OCPP_MIDDLEWARE (the pipeline refuses such a chain at start-up). Built once, with no
    arguments; called once per CALL like a middleware. Keep no per-message state on self.
    """

    def __call__(self, context: MessageContext) -> Payload:
        raise NotImplementedError
