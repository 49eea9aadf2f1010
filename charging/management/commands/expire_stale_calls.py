"""`python manage.py expire_stale_calls`: end the outbound calls that can no longer be answered."""

from django.core.management.base import BaseCommand

from charging import services


class Command(BaseCommand):
    help = (
        "End as `timeout` every outbound call still queued/sent OCPP_CALL_GRACE seconds after its "
        "timeout (e.g. its gateway died). Safe to run from cron at any interval."
    )

    def handle(self, *args, **options):
        ended = services.outbound_call_expire_stale()
        self.stdout.write(f"{ended} stale call(s) ended")
