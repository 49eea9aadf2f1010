"""Bringing a charger's local authorization list up to date with the id tags (OCPP 1.6 §3.5,
§5.15 SendLocalList): `sync_local_list` and what it reports, `LocalListSync`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import selectors, services
from .core import DEFAULT_WAIT, call
from .errors import ChargePointOffline, InvalidCommand


@dataclass(frozen=True)
class LocalListSync:
    """What `sync_local_list` did: the list version the charger was sent (or already had),
    the update type (None: it was up to date, nothing sent), how many entries, its answer."""

    version: int | None
    update_type: str | None
    entries: int
    response: dict[str, Any] | None


def sync_local_list(
    charge_point_id: str,
    *,
    full: bool = False,
    wait: float = DEFAULT_WAIT,
    requested_by: str = "",
) -> LocalListSync:
    """Bring the charger's local authorization list up to date with the id tags: the changes
    since the version it last reported (GetLocalListVersion, or its last accepted SendLocalList),
    the whole list when that is unknown, when `full`, or when it answers VersionMismatch."""
    charge_point = selectors.charge_point_get(charge_point_id=charge_point_id)
    if charge_point is None:
        raise ChargePointOffline(f"unknown charge point {charge_point_id!r}")
    update = services.local_list_update(since=None if full else charge_point.local_list_version)
    if update is None:
        return LocalListSync(charge_point.local_list_version, None, 0, None)
    most = selectors.configuration_key_int(charge_point=charge_point, key="SendLocalListMaxLength")
    if most is not None and len(update.entries) > most:
        raise InvalidCommand(
            f"{len(update.entries)} entries, more than the charger's SendLocalListMaxLength "
            f"{most}: not sent",
            code="OccurenceConstraintViolation",
            details={"cause": "local list longer than SendLocalListMaxLength"},
        )
    response = call(
        charge_point_id, "SendLocalList", update.payload(), wait=wait, requested_by=requested_by
    )
    if response.get("status") == "VersionMismatch" and update.update_type != "Full":
        update = services.local_list_update(since=None)
        response = call(
            charge_point_id, "SendLocalList", update.payload(), wait=wait, requested_by=requested_by
        )
    return LocalListSync(update.version, update.update_type, len(update.entries), response)
