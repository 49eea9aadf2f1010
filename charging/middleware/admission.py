"""The approval gate: what a charge point not approved yet may not do through us."""

from __future__ import annotations

from charging.protocol.errors import SecurityError

from .base import MessageContext, Middleware, Payload

# OCPP 1.6 §4.2: while not Accepted it should send nothing but BootNotification; these would
# grant energy. The pipeline puts the gate in front of their chains, whatever OCPP_MIDDLEWARE says.
REFUSED_UNTIL_APPROVED = frozenset({"Authorize", "StartTransaction"})


class ApprovalGateMiddleware(Middleware):
    """Refuses the CALL with SecurityError, nothing granted, until an operator approves the
    charge point (charging.admission)."""

    def __call__(self, context: MessageContext) -> Payload:
        if not context.charge_point.approved:
            raise SecurityError(details={"cause": "the charge point is not accepted yet"})
        return self.get_response(context)
