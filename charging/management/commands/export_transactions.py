"""`python manage.py export_transactions --from 2026-01-01 --to 2026-01-31 [--tz Europe/Berlin]
[--output FILE]`: transactions as CSV, streamed row by row."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from charging.reports import export


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CommandError(f"unknown time zone: {name!r}") from exc


class Command(BaseCommand):
    help = (
        "Write the transactions whose start the central system received between --from and --to "
        "(both days included, in --tz) as CSV: charge point, connector, idTag, start and stop "
        "(charger's clock, in --tz), energy kWh, duration, stop reason."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, type=parse_day)
        parser.add_argument("--to", dest="end", required=True, type=parse_day)
        parser.add_argument(
            "--tz", default=settings.TIME_ZONE, help="IANA zone (default: %(default)s)"
        )
        parser.add_argument("--output", "-o", default="-", help="file (default: standard output)")

    def handle(self, *args, **options):
        start, end = options["start"], options["end"]
        if end < start:
            raise CommandError("--to is before --from")
        zone = parse_zone(options["tz"])
        rows = export.transaction_rows(
            export.transactions_in_period(start=start, end=end, zone=zone), zone=zone
        )
        if options["output"] == "-":
            # csv ends each row with \r\n, so the wrapper adds no line ending of its own.
            count = export.write_csv(rows, self.stdout)
        else:
            with open(options["output"], "w", newline="", encoding="utf-8") as stream:
                count = export.write_csv(rows, stream)
        self.stderr.write(f"{count} transaction(s) exported")
