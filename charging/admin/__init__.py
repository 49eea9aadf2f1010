"""Admin: id tags are edited here; what chargers report is shown read-only; commands go to chargers.

Django autodiscovers `charging.admin`: importing the modules below registers every model admin.
"""

from . import (
    actions,
    base,
    charge_points,
    jobs,
    messages,
    reservations,
    security,
    site,
    smart_charging,
    transactions,
    webhooks,
)

__all__ = [
    "actions",
    "base",
    "charge_points",
    "jobs",
    "messages",
    "reservations",
    "security",
    "site",
    "smart_charging",
    "transactions",
    "webhooks",
]
