"""Pages of the charging app: the charge point simulator, a charger driven from the browser."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from ocpp.messages import get_validator

from . import conf
from .protocol.enums import ALL_ACTIONS, CHARGE_POINT_ACTIONS


def _schema_enum(action: str, *path: str) -> list[str]:
    """The `enum` of a field of a 1.6 CALL payload schema, e.g. StatusNotification's status."""
    node: dict[str, Any] = get_validator(2, action, "1.6").schema
    for name in path:
        node = node["properties"][name]
    if node.get("type") == "array":
        node = node["items"]
    return list(node["enum"])


@cache
def simulator_protocol() -> dict[str, Any]:
    """The 1.6 vocabulary the simulator's forms offer, from the spec's JSON schemas (data, not
    a second copy in JavaScript)."""
    return {
        "statuses": _schema_enum("StatusNotification", "status"),
        "errorCodes": _schema_enum("StatusNotification", "errorCode"),
        "stopReasons": _schema_enum("StopTransaction", "reason"),
        "diagnosticsStatuses": _schema_enum("DiagnosticsStatusNotification", "status"),
        "firmwareStatuses": _schema_enum("FirmwareStatusNotification", "status"),
        "triggerable": _schema_enum("TriggerMessage", "requestedMessage"),
        # Actions the central system may send us (DataTransfer goes both ways); any other
        # action name is unknown to 1.6 and answered NotImplemented.
        "centralSystemActions": sorted(ALL_ACTIONS - CHARGE_POINT_ACTIONS | {"DataTransfer"}),
    }


def index(request: HttpRequest) -> HttpResponse:
    """The charge point simulator; 404 when OCPP_SIMULATOR_ENABLED is off."""
    if not conf.get("OCPP_SIMULATOR_ENABLED"):
        raise Http404("The charge point simulator is turned off (OCPP_SIMULATOR_ENABLED).")
    gateway_url = str(conf.get("OCPP_GATEWAY_URL"))
    context = {
        "gateway_url": gateway_url,
        # A fresh id per page load, so two tabs are two chargers rather than replacing each other.
        "charge_point_id": f"SIM-{secrets.token_hex(3).upper()}",
        "simulator_config": {"gatewayUrl": gateway_url, **simulator_protocol()},
    }
    return render(request, "charging/simulator.html", context)
