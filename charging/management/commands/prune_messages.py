"""`python manage.py prune_messages [--days N] [--dry-run]`: delete the OCPP frames past their
retention (OCPP_MESSAGE_RETENTION_DAYS)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from charging import conf, services


class Command(BaseCommand):
    help = (
        "Delete the OCPP frames (messages) created more than --days (default "
        "OCPP_MESSAGE_RETENTION_DAYS) days ago, in short batches, until none is left; meter "
        "values, transactions and calls stay. --dry-run only counts them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="keep this many days (default: the setting)")
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, **options):
        days = options["days"]
        if days is None:
            days = int(conf.get("OCPP_MESSAGE_RETENTION_DAYS"))
            if days <= 0:
                self.stdout.write("OCPP_MESSAGE_RETENTION_DAYS is 0: every message is kept")
                return
        elif days <= 0:
            raise CommandError("--days must be at least 1")
        pruned = services.message_prune(days=days, budget=None, dry_run=options["dry_run"])
        verb = "would be deleted" if options["dry_run"] else "deleted"
        self.stdout.write(f"{pruned.messages} message(s) older than {days} day(s) {verb}")
