"""Housekeeping: what has outlived its time ends, whoever runs it (beat, the embedded process,
cron through `manage.py expire_stale_calls`)."""

from __future__ import annotations

from dataclasses import dataclass

from .outbound_calls import outbound_call_expire_stale
from .reservations import reservation_expire_due


@dataclass(frozen=True)
class Expired:
    calls: int
    reservations: int


def expire_due() -> Expired:
    """End as `timeout` the outbound calls nobody can answer any more (e.g. their gateway died
    with them queued or outstanding), and as `Expired` the reservations past their expiryDate.

    Idempotent and safe to run concurrently: each call is re-checked under its charge point's lock.
    """
    reservations = reservation_expire_due()
    return Expired(calls=outbound_call_expire_stale(), reservations=reservations)
