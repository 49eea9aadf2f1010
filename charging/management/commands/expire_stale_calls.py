"""`python manage.py expire_stale_calls`: end the outbound calls that can no longer be answered,
and the reservations past their expiry date."""

from django.core.management.base import BaseCommand

from charging import services


class Command(BaseCommand):
    help = (
        "End as `timeout` every outbound call still queued/sent OCPP_CALL_GRACE seconds after its "
        "timeout (e.g. its gateway died), and as `Expired` the reservations past their "
        "expiryDate. Safe to run from cron at any interval."
    )

    def handle(self, *args, **options):
        expired = services.expire_due()
        self.stdout.write(
            f"{expired.calls} stale call(s) ended, {expired.reservations} reservation(s) expired"
        )
