"""Small factories for the charging domain's rows and gateway envelopes, shared by the tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from charging.models import ChargePoint, IdTag, Message, MeterValue, Transaction
from charging.protocol import envelope

GATEWAY = "gw-test"
CHARGER_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # a charger clock, far from ours


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def make_charge_point(charge_point_id: str = "CP-1", **fields: Any) -> ChargePoint:
    fields.setdefault("connected", True)
    fields.setdefault("connection_id", "conn-1")
    return ChargePoint.objects.create(id=charge_point_id, **fields)


def make_id_tag(id_tag: str = "TAG-1", **fields: Any) -> IdTag:
    return IdTag.objects.create(id_tag=id_tag, **fields)


def make_transaction(charge_point: ChargePoint, **fields: Any) -> Transaction:
    fields.setdefault("connector_id", 1)
    fields.setdefault("id_tag", "TAG-1")
    fields.setdefault("meter_start", 1000)
    fields.setdefault("started_at", CHARGER_TIME)
    return Transaction.objects.create(charge_point=charge_point, **fields)


def make_message(charge_point: ChargePoint, **fields: Any) -> Message:
    fields.setdefault("direction", "in")
    fields.setdefault("message_type", 2)
    return Message.objects.create(charge_point=charge_point, **fields)


def make_meter_value(charge_point: ChargePoint, **fields: Any) -> MeterValue:
    """An energy register sample of connector 1 (1500 Wh unless `value` says otherwise)."""
    defaults = {
        "connector_id": 1,
        "value": "1500",
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unit": "Wh",
    }
    return MeterValue.objects.create(charge_point=charge_point, **{**defaults, **fields})


def event(
    kind: envelope.Kind, *, cp: str = "CP-1", conn: str = "conn-1", **fields: Any
) -> envelope.Inbound:
    return envelope.inbound(
        kind, cp=cp, conn=conn, gateway=GATEWAY, reply_to=envelope.gateway_queue(GATEWAY), **fields
    )


def frame(text: str | list, **fields: Any) -> envelope.Inbound:
    """A `frame` event carrying `text`, or a list dumped as JSON."""
    return event("frame", text=text if isinstance(text, str) else json.dumps(text), **fields)


def call(unique_id: str, action: str, payload: dict[str, Any], **fields: Any) -> envelope.Inbound:
    return frame([2, unique_id, action, payload], **fields)


def sent(reply: envelope.Reply) -> list[Any] | None:
    """The frame a reply asks the gateway to write, decoded."""
    return None if reply["send"] is None else json.loads(reply["send"])


def start_payload(**fields: Any) -> dict[str, Any]:
    payload = {
        "connectorId": 1,
        "idTag": "TAG-1",
        "meterStart": 1000,
        "timestamp": iso(CHARGER_TIME),
    }
    payload.update(fields)
    return payload
