"""Transactions as CSV, streamed: rows are read in chunks and written as they come, so a year of
data never sits in memory (`python manage.py export_transactions`, the admin's export action)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Protocol

from django.db.models import QuerySet

from ..models import Transaction
from ..selectors import transaction_list_with_energy

CHUNK_SIZE = 2000
HEADER = [
    "transaction_id",
    "charge_point",
    "connector",
    "id_tag",
    "start",
    "stop",
    "energy_kwh",
    "duration",
    "stop_reason",
]


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def period_bounds(*, start: date, end: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in `zone`: both dates are included."""
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def transactions_in_period(*, start: date, end: date, zone: tzinfo) -> QuerySet[Transaction]:
    """Transactions the central system received the start of within the period (server clock:
    chargers' clocks drift, and may be missing), oldest first, with their energy."""
    since, until = period_bounds(start=start, end=end, zone=zone)
    return (
        transaction_list_with_energy()
        .filter(start_received_at__gte=since, start_received_at__lt=until)
        .order_by("start_received_at", "id")
    )


def format_duration(value: timedelta | None) -> str:
    """H:MM:SS, or empty while open or when a charger time is missing."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def format_kwh(wh: Decimal | int | None) -> str:
    if wh is None:
        return ""
    return f"{Decimal(wh) / 1000:.3f}"


def _local(moment: datetime | None, zone: tzinfo) -> str:
    return "" if moment is None else moment.astimezone(zone).isoformat()


def transaction_rows(transactions: QuerySet[Transaction], *, zone: tzinfo) -> Iterator[list[str]]:
    """The header, then one row per transaction, fetched CHUNK_SIZE at a time. Start and stop are
    the charger's times, shown in `zone`; `transactions` must carry `energy_wh` and `duration`
    (selectors.transaction_list_with_energy)."""
    yield HEADER
    for tx in transactions.iterator(chunk_size=CHUNK_SIZE):
        yield [
            str(tx.id),
            tx.charge_point_id,
            str(tx.connector_id),
            tx.id_tag,
            _local(tx.started_at, zone),
            _local(tx.stopped_at, zone),
            format_kwh(tx.energy_wh),  # type: ignore[attr-defined]
            format_duration(tx.duration),  # type: ignore[attr-defined]
            tx.stop_reason,
        ]


def write_csv(rows: Iterable[list[str]], stream: Writable) -> int:
    """Write `rows` to `stream` one by one; the number of data rows written."""
    writer = csv.writer(stream)
    count = -1
    for row in rows:
        writer.writerow(row)
        count += 1
    return max(count, 0)


class _Echo:
    """A file-like object whose write returns what it was given (for StreamingHttpResponse)."""

    def write(self, text: str) -> str:
        return text


def csv_lines(rows: Iterable[list[str]]) -> Iterator[str]:
    """Each row as one CSV line, produced only when asked for."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(row)
