"""Storage hygiene (`clean_text`, `clean_json`) and the record of every OCPP-J frame."""

from __future__ import annotations

import math
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.utils import timezone

from ..clock import format_ocpp_time
from ..models import ChargePoint, Direction, Message

# --- storage hygiene ------------------------------------------------------------------------


def clean_text(value: str) -> str:
    """`value` made storable in PostgreSQL: no NUL characters, no lone surrogates."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def clean_key(value: str) -> str:
    """`value` as the 64-character key columns (unique id, action, codes) store it."""
    return clean_text(value)[:64]


def clean_json(value: Any) -> Any:
    """A JSON value PostgreSQL can store: strings (keys too) through `clean_text`, no NaN."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(key)): clean_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # Python's json reads `Infinity` and `NaN`; PostgreSQL's jsonb does not
    return value


def _append_note(current: str, note: str) -> str:
    stamp = format_ocpp_time(timezone.now())
    return f"{current}\n{stamp} {note}".strip()


# --- messages -------------------------------------------------------------------------------


def message_record(*, charge_point: ChargePoint, **fields: Any) -> Message:
    """Store one OCPP-J frame (the fields of `message_build`). Whatever a charger sent, the row
    can be written."""
    return _insert(message_build(charge_point=charge_point, **fields))


def message_build(
    *,
    charge_point: ChargePoint | None = None,
    charge_point_id: str | None = None,
    direction: Direction | str,
    message_type: int | None,
    unique_id: str = "",
    action: str = "",
    payload: Any = None,
    raw: str = "",
    error_code: str = "",
    error_description: str = "",
    error_details: Any = None,
    answer_to: Message | None = None,
    frame_id: str | None = None,
    connection_id: str = "",
    note: str = "",
    received_at: datetime | None = None,
) -> Message:
    """The unsaved row `message_record` stores (of `charge_point`, or of the charge point
    `charge_point_id` before it is read), every field made storable."""
    message = Message(
        charge_point=charge_point,
        direction=direction,
        message_type=message_type if message_type in (2, 3, 4) else None,
        unique_id=clean_key(unique_id),
        action=clean_key(action),
        payload=clean_json(payload),
        raw=clean_text(raw),
        error_code=clean_key(error_code),
        error_description=clean_text(error_description),
        error_details=clean_json(error_details),
        answer_to=answer_to,
        frame_id=frame_id,
        connection_id=clean_key(connection_id),
        note=note,
        received_at=received_at,
    )
    if charge_point is None:
        message.charge_point_id = charge_point_id
    return message


_INSERTED_FIELDS = [field for field in Message._meta.concrete_fields if not field.primary_key]


@cache
def _insert_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _INSERTED_FIELDS)
    values = ", ".join(["%s"] * len(_INSERTED_FIELDS))
    return (
        f"INSERT INTO {quote(Message._meta.db_table)} ({columns}) VALUES ({values})"
        f" RETURNING {quote(Message._meta.pk.column)}"
    )


def message_insert_statement(message: Message) -> tuple[str, list[Any]]:
    """The prepared INSERT … RETURNING id of the unsaved `message`, and its parameters, for a
    caller that sends it with another statement (`message_inserted` then notes the id)."""
    params = [
        field.get_db_prep_save(field.pre_save(message, True), connection)
        for field in _INSERTED_FIELDS
    ]
    return _insert_sql(connection.vendor), params


def message_inserted(message: Message, pk: int) -> Message:
    """`message`, stored with `pk`, as `save()` leaves a new row."""
    message.pk = pk
    message._state.adding = False
    message._state.db = connection.alias
    return message


def _insert(message: Message) -> Message:
    """`message.save()` for a new row in one prepared INSERT … RETURNING (PostgreSQL, SQLite
    ≥ 3.35): two frames a CALL, the ORM's per-query set-up was a third of their cost."""
    sql, params = message_insert_statement(message)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return message_inserted(message, cursor.fetchone()[0])


def message_record_violations(
    *, message: Message, violations: list[dict[str, str]], raw: str
) -> None:
    """Note on a charger's frame the soft violations lenient validation accepted, with the frame's
    text as received (its payload is stored as received; the pipeline saw it normalised)."""
    message.violations = violations
    message.raw = clean_text(raw)
    message.save(update_fields=["violations", "raw"])
