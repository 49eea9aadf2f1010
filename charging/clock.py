"""Charger timestamps in and out: lenient parsing of what chargers send, strict formatting of ours."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime


def parse_charger_time(value: object) -> datetime | None:
    """The aware datetime a charger sent, or None when it is missing or unreadable.

    Chargers' clocks and formats are often off (no offset, no seconds fraction); a naive time is
    taken as UTC, the zone OCPP 1.6 asks chargers to use. The caller keeps the server's own time beside it.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = parse_datetime(value.strip())
    except (ValueError, OverflowError):
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def format_ocpp_time(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, millisecond precision, as OCPP 1.6 chargers expect."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
