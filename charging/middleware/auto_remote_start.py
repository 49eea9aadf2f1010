"""Send RemoteStartTransaction when a connector goes to Preparing (the seed app's default)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from charging import conf

from .base import MessageContext, Middleware, Payload

if TYPE_CHECKING:
    from charging.models import OutboundCall

logger = logging.getLogger(__name__)

CALLBACK = f"{__name__}.remote_start_answered"


class AutoRemoteStartMiddleware(Middleware):
    """After the StatusNotification is handled, start a transaction on a connector that went to
    Preparing, with OCPP_AUTO_REMOTE_START_ID_TAG after OCPP_AUTO_REMOTE_START_DELAY seconds
    (the Grizzl-E ignores a RemoteStartTransaction sent right after its StatusNotification)."""

    def __call__(self, context: MessageContext) -> Payload:
        payload = context.call.payload
        connector_id = payload["connectorId"]
        # A charge point not approved yet gets no energy through us (charging.admission).
        wanted = (
            payload["status"] == "Preparing"
            and connector_id > 0
            and context.charge_point.approved
            and not _reported_already(context)
        )
        response = self.get_response(context)
        if wanted:
            context.send_call(
                "RemoteStartTransaction",
                {"connectorId": connector_id, "idTag": conf.get("OCPP_AUTO_REMOTE_START_ID_TAG")},
                delay=float(conf.get("OCPP_AUTO_REMOTE_START_DELAY")),
                callback=CALLBACK,
                requested_by="AutoRemoteStartMiddleware",
            )
        return response


def _reported_already(context: MessageContext) -> bool:
    """The connector's stored status is this very report (same status and charger time): the
    charger sent it again under a new unique id, and it was remote-started then."""
    from charging.clock import parse_charger_time
    from charging.models import Connector

    timestamp = parse_charger_time(context.call.payload.get("timestamp"))
    return (
        timestamp is not None
        and Connector.objects.filter(
            charge_point=context.charge_point,
            connector_id=context.call.payload["connectorId"],
            status="Preparing",
            timestamp=timestamp,
        ).exists()
    )


def remote_start_answered(*, call: OutboundCall) -> None:
    """Record on the connector whether the charger accepted the automatic remote start."""
    from charging import services
    from charging.models import OutboundCallStatus

    if call.status == OutboundCallStatus.ANSWERED:
        outcome = str((call.response or {}).get("status", ""))
    else:
        outcome = call.status  # call_error, timeout or offline
    logger.info("%s: RemoteStartTransaction %s: %s", call.charge_point_id, call.unique_id, outcome)
    services.connector_remote_start_result(
        charge_point=call.charge_point,
        connector_id=int(call.payload.get("connectorId", 0)),
        status=outcome,
        at=call.answered_at,
    )
