"""Handlers of StartTransaction, StopTransaction and MeterValues, and orphan cleanup."""

from __future__ import annotations

from typing import Any

from charging.clock import parse_charger_time

from .base import Handler, MessageContext, Middleware, Payload
from .core import connector_id_of


class OrphanedTransactionMiddleware(Middleware):
    """Before a StartTransaction, close what is still open on its connector: a connector has at
    most one transaction, so an open one lost its StopTransaction. A retry of the same start
    keeps its own transaction."""

    def __call__(self, context: MessageContext) -> Payload:
        from charging import selectors, services

        payload = context.call.payload
        services.transaction_close_orphans(
            charge_point=context.charge_point,
            # A transaction runs on a real connector, never on 0, the charge point (OCPP 1.6 StartTransaction.req).
            connector_id=connector_id_of(payload, minimum=1),
            starting=selectors.StartKey(
                id_tag=payload["idTag"],
                meter_start=payload["meterStart"],
                timestamp=parse_charger_time(payload["timestamp"]),
            ),
            at=context.received_at,
        )
        return self.get_response(context)


class StartTransactionHandler(Handler):
    """StartTransaction.req → transactionId and idTagInfo (§4.8). The transaction is recorded
    whatever the idTag's status: the charger has already started it and stops it if not Accepted."""

    def __call__(self, context: MessageContext) -> Payload:
        from charging import services

        payload = context.call.payload
        id_tag_info = services.id_tag_authorize(id_tag=payload["idTag"])
        transaction = services.transaction_start(
            charge_point=context.charge_point,
            connector_id=connector_id_of(payload, minimum=1),
            id_tag=payload["idTag"],
            meter_start=payload["meterStart"],
            timestamp=parse_charger_time(payload["timestamp"]),
            reservation_id=payload.get("reservationId"),
            id_tag_status=id_tag_info["status"],
            received_at=context.received_at,
        )
        return {"transactionId": transaction.id, "idTagInfo": id_tag_info}


class StopTransactionHandler(Handler):
    """StopTransaction.req → always answered, with idTagInfo when an idTag was sent (§4.10)."""

    def __call__(self, context: MessageContext) -> Payload:
        from charging import services

        payload = context.call.payload
        services.transaction_stop(
            charge_point=context.charge_point,
            transaction_id=payload["transactionId"],
            meter_stop=payload["meterStop"],
            timestamp=parse_charger_time(payload["timestamp"]),
            reason=payload.get("reason", services.DEFAULT_STOP_REASON),
            id_tag=payload.get("idTag", ""),
            transaction_data=payload.get("transactionData"),
            source_message=context.message,
            received_at=context.received_at,
        )
        if "idTag" in payload:
            return {"idTagInfo": services.id_tag_authorize(id_tag=payload["idTag"])}
        return {}


class MeterValuesHandler(Handler):
    """MeterValues.req → one row per sampled value (§4.7)."""

    def __call__(self, context: MessageContext) -> Payload:
        from charging import services

        payload = context.call.payload
        services.meter_values_record(
            charge_point=context.charge_point,
            connector_id=connector_id_of(payload),
            meter_values=payload["meterValue"],
            transaction_id=payload.get("transactionId"),
            source_message=context.message,
            received_at=context.received_at,
        )
        return {}


def __getattr__(name: str) -> Any:
    # The handlers' former names, for dotted OCPP_MIDDLEWARE entries that say this module.
    if not name.endswith("Middleware"):  # `__path__` and the like, asked by imports
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .deprecated import alias_in

    return alias_in(__name__, name)
