"""Building call payloads from the helpers' keyword arguments: omitted fields, OCPP times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from ..clock import format_ocpp_time


def fields(**given: Any) -> dict[str, Any]:
    """A payload of the given fields, without the omitted (None) ones; datetimes as OCPP time."""
    return {
        name: ocpp_time(value) if isinstance(value, datetime) else value
        for name, value in given.items()
        if value is not None
    }


def ocpp_time(value: datetime | str) -> str:
    """OCPP time for a datetime (a naive one is taken as UTC); a string is sent as given."""
    if isinstance(value, datetime):
        return format_ocpp_time(value if timezone.is_aware(value) else value.replace(tzinfo=UTC))
    return value
