"""`python manage.py find_meter_jumps --from 2026-01-01 --to 2026-01-31 [--dry-run]`: flag the
energy register jumps of the transactions of a period (OCPP_METER_JUMP_WH)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from charging import conf, meter_jumps
from charging.management.commands.export_transactions import parse_day
from charging.models import Transaction
from charging.reports.export import period_bounds


class Command(BaseCommand):
    help = (
        "Recheck the energy register readings of the transactions whose start was received "
        "between --from and --to (both days included, server time zone): flag the ones more "
        "than OCPP_METER_JUMP_WH from the previous trusted reading, unflag the others. "
        "--dry-run only reports."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, type=parse_day)
        parser.add_argument("--to", dest="end", required=True, type=parse_day)
        parser.add_argument("--dry-run", action="store_true", help="report, change nothing")

    def handle(self, *args, **options):
        if options["end"] < options["start"]:
            raise CommandError("--to is before --from")
        since, until = period_bounds(
            start=options["start"], end=options["end"], zone=timezone.get_current_timezone()
        )
        dry_run = options["dry_run"]
        transactions = Transaction.objects.filter(
            start_received_at__gte=since, start_received_at__lt=until
        ).order_by("id")
        checked = jumps = changed = 0
        for transaction in transactions.iterator(chunk_size=500):
            result = meter_jumps.transaction_recheck_jumps(transaction=transaction, dry_run=dry_run)
            checked += 1
            jumps += len(result.jumps)
            changed += len(result.changed)
            for jump in result.jumps:
                sample = jump.sample
                self.stdout.write(
                    f"transaction {transaction.id} {transaction.charge_point_id}/"
                    f"{transaction.connector_id} meter value {sample.pk} at "
                    f"{sample.timestamp.isoformat() if sample.timestamp else '?'}"
                    f"{' phase ' + sample.phase if sample.phase else ''}: "
                    f"{jump.previous_wh.normalize():f} Wh -> {jump.wh.normalize():f} Wh"
                )
        verb = "would change" if dry_run else "changed"
        self.stdout.write(
            f"{checked} transaction(s) checked, {jumps} jump(s) over "
            f"{conf.get('OCPP_METER_JUMP_WH')} Wh, {verb} {changed} flag(s)"
        )
