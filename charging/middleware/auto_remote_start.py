"""Send RemoteStartTransaction when a connector goes to Preparing, unless it makes no sense."""

from __future__ import annotations

import logging

from charging import conf

from .base import MessageContext, Middleware, Payload

logger = logging.getLogger(__name__)

# Its registered flow (charging.services.outbound_actions): asked again when due, and its
# outcome recorded on the connector.
FLOW = "AutoRemoteStart"


class AutoRemoteStartMiddleware(Middleware):
    """After the StatusNotification is handled, start a transaction on a connector that went to
    Preparing, with OCPP_AUTO_REMOTE_START_ID_TAG after OCPP_AUTO_REMOTE_START_DELAY seconds
    (the Grizzl-E ignores a RemoteStartTransaction sent right after its StatusNotification).

    Skipped, with an INFO log, when services.auto_remote_start_skip_reason says why; asked again
    when the delay ran out, since the connector may have moved on meanwhile.
    """

    def __call__(self, context: MessageContext) -> Payload:
        payload = context.call.payload
        connector_id = payload["connectorId"]
        wanted = (
            payload["status"] == "Preparing"
            and connector_id > 0
            and conf.get("OCPP_AUTO_REMOTE_START")
        )
        # Before the handler stores this report over the connector's last one.
        repeated = wanted and _reported_already(context)
        response = self.get_response(context)
        if not wanted:
            return response
        from charging import services

        reason = (
            "the same Preparing report again, under a new unique id"
            if repeated
            else services.auto_remote_start_skip_reason(
                charge_point=context.charge_point, connector_id=connector_id
            )
        )
        if reason:
            logger.info(
                "%s: no automatic RemoteStartTransaction to connector %d: %s",
                context.charge_point.id,
                connector_id,
                reason,
            )
            return response
        context.send_call(
            "RemoteStartTransaction",
            {"connectorId": connector_id, "idTag": conf.get("OCPP_AUTO_REMOTE_START_ID_TAG")},
            delay=float(conf.get("OCPP_AUTO_REMOTE_START_DELAY")),
            flow=FLOW,
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
