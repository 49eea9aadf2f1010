"""Charge points: the per-charge-point lock, boot, heartbeat, statuses, configuration keys."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone

from .. import events, selectors
from ..models import ChargePoint, ConfigurationKey, Message, ValidationMode
from ..protocol.identity import MAX_CHARGE_POINT_ID_LENGTH
from .messages import clean_key, clean_text, message_insert_statement, message_inserted

logger = logging.getLogger(__name__)

# --- charge points --------------------------------------------------------------------------


def charge_point_lock(*, charge_point_id: str) -> ChargePoint:
    """The charge point, created on first contact, locked until the end of the transaction:
    one charge point's events are processed one at a time, whichever worker gets them."""
    _check_id(charge_point_id)
    locked = ChargePoint.objects.select_for_update()
    try:
        return locked.get(id=charge_point_id)  # one query for a known charge point
    except ChargePoint.DoesNotExist:
        from ..admission import approved_on_creation

        ChargePoint.objects.get_or_create(
            id=charge_point_id, defaults={"approved": approved_on_creation()}
        )
    return locked.get(id=charge_point_id)


def _check_id(charge_point_id: str) -> None:
    # A cheap guard on every event; the rule itself (protocol.identity) is checked where ids
    # come in: the gateway's path, the admin and the API.
    if (
        not isinstance(charge_point_id, str)
        or not 0 < len(charge_point_id) <= MAX_CHARGE_POINT_ID_LENGTH
    ):
        raise ValueError(f"bad charge point id {charge_point_id!r}")


def charge_point_boot(
    *,
    charge_point: ChargePoint,
    vendor: str,
    model: str,
    serial_number: str = "",
    charge_box_serial_number: str = "",
    firmware_version: str = "",
    iccid: str = "",
    imsi: str = "",
    meter_type: str = "",
    meter_serial_number: str = "",
    at: datetime | None = None,
) -> ChargePoint:
    """Store what a BootNotification reports; its registration status is Accepted once approved
    (charging.admission.registration_status), Pending or Rejected before."""
    from ..admission import registration_status

    charge_point.vendor = vendor
    charge_point.model = model
    charge_point.serial_number = serial_number
    charge_point.charge_box_serial_number = charge_box_serial_number
    charge_point.firmware_version = firmware_version
    charge_point.iccid = iccid
    charge_point.imsi = imsi
    charge_point.meter_type = meter_type
    charge_point.meter_serial_number = meter_serial_number
    charge_point.registration_status = registration_status(charge_point=charge_point)
    charge_point.last_boot_at = at or timezone.now()
    charge_point.save(
        update_fields=[
            "vendor",
            "model",
            "serial_number",
            "charge_box_serial_number",
            "firmware_version",
            "iccid",
            "imsi",
            "meter_type",
            "meter_serial_number",
            "registration_status",
            "last_boot_at",
        ]
    )
    events.emit("charge_point.booted", charge_point=charge_point, at=charge_point.last_boot_at)
    return charge_point


def charge_point_heartbeat(*, charge_point: ChargePoint, at: datetime | None = None) -> ChargePoint:
    charge_point.last_heartbeat_at = at or timezone.now()
    charge_point.save(update_fields=["last_heartbeat_at"])
    return charge_point


def charge_point_authorized(*, charge_point: ChargePoint, at: datetime | None = None) -> None:
    """An Authorize was answered Accepted: its driver is about to start a session."""
    charge_point.last_authorized_at = at or timezone.now()
    charge_point.save(update_fields=["last_authorized_at"])


def charge_point_lock_received(
    *,
    charge_point_id: str,
    at: datetime,
    connection_id: str = "",
    call: tuple[str, str] | None = None,
    inbound: Message | None = None,
) -> ChargePoint:
    """`charge_point_lock` and note a frame received at `at` from `connection_id` (a CALL's
    `(unique id, action)` with it), in one statement: an UPDATE takes the row lock as SELECT FOR
    UPDATE does, and RETURNING reads the row. `last_call_repeat` on the row tells whether the
    CALL has the unique id and action of the latest CALL before it (SET expressions read the row
    as it was, PostgreSQL re-reading it after a lock wait; a repeat is then looked up).

    `inbound`, the frame's unsaved Message (`message_build`), is stored too: in the same
    statement on PostgreSQL (a data-modifying WITH), right after it on SQLite. A repeated
    `frame_id` raises IntegrityError as `message_record` does.

    A frame from the current connection after its gateway's presence lease expired shows the
    gateway alive after all (Redis was out of its reach), so the charge point is connected again.
    """
    _check_id(charge_point_id)
    charge_point = _update_returning(charge_point_id, at, call, inbound)
    if charge_point is None:  # first contact (the inbound frame is stored)
        charge_point_lock(charge_point_id=charge_point_id)
        charge_point = _update_returning(charge_point_id, at, call, None)
        assert charge_point is not None
    if inbound is not None:
        inbound.charge_point = charge_point
    if (
        connection_id
        and not charge_point.connected
        and connection_id == charge_point.connection_id
        and selectors.connection_presence_expired(
            charge_point=charge_point, connection_id=connection_id
        )
    ):
        logger.info("%s: heard from again after its presence expired", charge_point.id)
        charge_point.connected = True
        charge_point.save(update_fields=["connected"])
    return charge_point


def _update_returning(
    charge_point_id: str, at: datetime, call: tuple[str, str] | None, inbound: Message | None
) -> ChargePoint | None:
    columns = _returned_columns()
    quote = connection.ops.quote_name
    assignments = [f"{quote('last_message_at')} = %s"]
    params: list[Any] = [connection.ops.adapt_datetimefield_value(at)]
    if call is not None:
        # As message_record stores them: a repeat is compared with the stored CALL.
        unique_id, action = clean_key(call[0]), clean_key(call[1])
        assignments += [
            f"{quote('last_call_repeat')} = ({quote('last_call_unique_id')} = %s"
            f" AND {quote('last_call_action')} = %s)",
            f"{quote('last_call_unique_id')} = %s",
            f"{quote('last_call_action')} = %s",
        ]
        params += [unique_id, action, unique_id, action]
    sql = (
        f"UPDATE {quote(ChargePoint._meta.db_table)} SET {', '.join(assignments)}"
        f" WHERE {quote('id')} = %s RETURNING {columns}"
    )
    params.append(charge_point_id)
    with connection.cursor() as cursor:
        if inbound is None:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        elif connection.vendor == "postgresql":
            # One round trip for the lock and the frame's row: the INSERT runs whether or not
            # the charge point exists yet (its foreign key is checked at commit).
            insert, insert_params = message_insert_statement(inbound)
            cursor.execute(
                f"WITH inbound AS ({insert}), cp AS ({sql})"
                " SELECT cp.*, inbound.id FROM inbound LEFT JOIN cp ON TRUE",
                [*insert_params, *params],
            )
            *row, message_id = cursor.fetchone()
            message_inserted(inbound, message_id)
            row = None if row[0] is None else row
        else:
            cursor.execute(sql, params)
            row = cursor.fetchone()
            insert, insert_params = message_insert_statement(inbound)
            cursor.execute(insert, insert_params)
            message_inserted(inbound, cursor.fetchone()[0])
    if row is None:
        return None
    # What a queryset does with a row, without its per-query set-up (half this call's CPU).
    values = list(row)
    for index, expression, converters in _converters(connection.alias):
        for convert in converters:
            values[index] = convert(values[index], expression, connection)
    return ChargePoint.from_db(connection.alias, _ATTNAMES, values)


_ATTNAMES = [field.attname for field in ChargePoint._meta.concrete_fields]


@cache
def _returned_columns() -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(field.column) for field in ChargePoint._meta.concrete_fields)


@cache
def _converters(alias: str) -> list[tuple[int, Any, list[Any]]]:
    """Per returned column that needs them, the database's and the field's value converters."""
    found = []
    for index, field in enumerate(ChargePoint._meta.concrete_fields):
        expression = field.get_col(ChargePoint._meta.db_table)
        converters = connection.ops.get_db_converters(expression) + field.get_db_converters(
            connection
        )
        if converters:
            found.append((index, expression, converters))
    return found


def charge_point_diagnostics_status(
    *, charge_point: ChargePoint, status: str, at: datetime | None = None
) -> ChargePoint:
    charge_point.diagnostics_status = status
    charge_point.diagnostics_status_at = at or timezone.now()
    charge_point.save(update_fields=["diagnostics_status", "diagnostics_status_at"])
    return charge_point


def charge_point_firmware_status(
    *, charge_point: ChargePoint, status: str, at: datetime | None = None
) -> ChargePoint:
    charge_point.firmware_status = status
    charge_point.firmware_status_at = at or timezone.now()
    charge_point.save(update_fields=["firmware_status", "firmware_status_at"])
    return charge_point


# --- answers that change our state (run when a call is answered) ----------------------------


def configuration_keys_store(
    *,
    charge_point: ChargePoint,
    keys: list[dict[str, Any]],
    unknown: Iterable[str] = (),
    complete: bool = False,
    at: datetime | None = None,
) -> None:
    """Store GetConfiguration.conf `configurationKey` entries; `complete` (no key was asked
    for: the charger listed all of them) drops the keys it no longer reports."""
    at = at or timezone.now()
    for entry in keys:
        if str(entry.get("key", "")).lower() == "authorizationkey":
            continue  # write-only (security whitepaper); never stored should a charger report it
        ConfigurationKey.objects.update_or_create(
            charge_point=charge_point,
            key=clean_text(str(entry["key"]))[:50],
            defaults={
                "value": clean_text(entry["value"]) if entry.get("value") is not None else None,
                "readonly": bool(entry.get("readonly", False)),
                "updated_at": at,
            },
        )
    stale = ConfigurationKey.objects.filter(charge_point=charge_point)
    if complete:
        stale.exclude(key__in=[str(entry["key"])[:50] for entry in keys]).delete()
    else:
        stale.filter(key__in=list(unknown)).delete()


def configuration_key_set(
    *, charge_point: ChargePoint, key: str, value: str, at: datetime | None = None
) -> ConfigurationKey:
    entry, _ = ConfigurationKey.objects.update_or_create(
        charge_point=charge_point,
        key=clean_text(key)[:50],
        defaults={"value": clean_text(value), "updated_at": at or timezone.now()},
    )
    return entry


def charge_point_local_list_version_set(
    *, charge_point: ChargePoint, version: int, at: datetime | None = None
) -> ChargePoint:
    charge_point.local_list_version = version
    charge_point.local_list_version_at = at or timezone.now()
    charge_point.save(update_fields=["local_list_version", "local_list_version_at"])
    return charge_point


def charge_point_validation_set(*, charge_point: ChargePoint, mode: str) -> ChargePoint:
    """Validate this charge point's payloads `strict`ly or `lenient`ly; "" follows OCPP_VALIDATION."""
    if mode not in ("", *ValidationMode.values):
        raise ValueError(f"unknown validation mode {mode!r}")
    charge_point.validation = mode
    charge_point.save(update_fields=["validation"])
    return charge_point
