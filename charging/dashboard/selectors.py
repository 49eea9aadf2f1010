"""Reads behind the dashboard: one summary, as plain JSON-ready data."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from .. import selectors
from ..models import (
    ChargePoint,
    Connector,
    Message,
    MessageTypeChoice,
    OutboundCall,
    OutboundCallStatus,
    Transaction,
)

RECENT_ERRORS = 20
ACTIVE_LISTED = 20
DAYS = 30


def _kwh(wh: Decimal | int | None) -> float:
    return round(float(wh or 0) / 1000, 3)


def energy_per_day(*, now: datetime, days: int) -> list[tuple[date, float]]:
    """kWh per day (the current time zone) for the last `days` days, today last.

    A stopped transaction counts on the day the central system received its stop, with
    meterStop - meterStart (left out when negative); an open one counts today with its energy so
    far (trusted register readings only).
    """
    zone = timezone.get_current_timezone()
    today = timezone.localdate(now, timezone=zone)
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=zone)
    per_day = {first + timedelta(days=i): Decimal(0) for i in range(days)}
    stopped = (
        Transaction.objects.filter(
            stop_received_at__gte=since,
            meter_stop__isnull=False,
            meter_stop__gte=F("meter_start"),
        )
        .annotate(day=TruncDate("stop_received_at", tzinfo=zone))
        .values("day")
        .annotate(wh=Sum(F("meter_stop") - F("meter_start")))
        .order_by()
    )
    for row in stopped:
        if row["day"] in per_day:
            per_day[row["day"]] += Decimal(row["wh"] or 0)
    open_wh = (
        selectors.transaction_list_with_energy()
        .filter(stop_received_at__isnull=True, energy_wh__gt=0)
        .aggregate(wh=Sum("energy_wh"))["wh"]
    )
    per_day[today] += Decimal(open_wh or 0)
    return [(day, _kwh(wh)) for day, wh in sorted(per_day.items())]


def recent_errors(*, limit: int = RECENT_ERRORS) -> list[dict[str, Any]]:
    """CALLERRORs either way, connectors now Faulted or flagged for a charge-start loop, and
    calls that got no answer, newest first."""
    errors: list[dict[str, Any]] = []
    for message in (
        Message.objects.filter(message_type=MessageTypeChoice.CALL_ERROR)
        .select_related("answer_to")
        .order_by("-id")[:limit]
    ):
        action = message.action or (message.answer_to.action if message.answer_to else "")
        errors.append(
            {
                "at": message.received_at or message.created_at,
                "kind": "CALLERROR " + ("from charger" if message.direction == "in" else "sent"),
                "charge_point": message.charge_point_id,
                "text": " ".join(
                    part
                    for part in (action, message.error_code, message.error_description[:200])
                    if part
                ),
            }
        )
    for connector in Connector.objects.filter(status="Faulted").order_by(
        "-status_updated_at", "id"
    )[:limit]:
        errors.append(
            {
                "at": connector.status_updated_at,
                "kind": "Faulted",
                "charge_point": connector.charge_point_id,
                "text": " ".join(
                    part
                    for part in (
                        f"connector {connector.connector_id}",
                        connector.error_code,
                        connector.info,
                        connector.vendor_error_code,
                    )
                    if part
                ),
            }
        )
    for connector in Connector.objects.filter(transaction_loop_at__isnull=False).order_by(
        "-transaction_loop_at", "id"
    )[:limit]:
        errors.append(
            {
                "at": connector.transaction_loop_at,
                "kind": "charge-start loop",
                "charge_point": connector.charge_point_id,
                "text": f"connector {connector.connector_id}: "
                f"{connector.transaction_loop_count} transactions started within a minute",
            }
        )
    for call in OutboundCall.objects.filter(status=OutboundCallStatus.TIMEOUT).order_by("-id")[
        :limit
    ]:
        errors.append(
            {
                "at": call.answered_at or call.created_at,
                "kind": "call timeout",
                "charge_point": call.charge_point_id,
                "text": f"{call.action} {call.unique_id}",
            }
        )
    far_past = datetime.min.replace(tzinfo=timezone.get_current_timezone())
    errors.sort(key=lambda error: error["at"] or far_past, reverse=True)
    return errors[:limit]


def dashboard_summary(*, now: datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard shows, JSON-ready apart from datetimes."""
    now = now or timezone.now()
    points = ChargePoint.objects.aggregate(
        total=Count("id"), online=Count("id", filter=selectors.charge_point_online_q(now=now))
    )
    # Connector 0 is the charge point as a whole (OCPP 1.6 §4.9), not a socket.
    by_status = {
        row["status"] or "Unknown": row["n"]
        for row in Connector.objects.filter(connector_id__gt=0)
        .values("status")
        .annotate(n=Count("id"))
        .order_by("status")
    }
    active = selectors.transaction_list_with_energy().filter(stop_received_at__isnull=True)
    active_count = active.count()
    active_items = [
        {
            "id": tx.id,
            "charge_point": tx.charge_point_id,
            "connector": tx.connector_id,
            "id_tag": tx.id_tag,
            "started_at": tx.started_at,
            "energy_kwh": None if tx.energy_wh is None else _kwh(tx.energy_wh),  # type: ignore[attr-defined]
        }
        for tx in active.order_by("-id")[:ACTIVE_LISTED]
    ]
    daily = energy_per_day(now=now, days=DAYS)
    return {
        "generated_at": now,
        "charge_points": {
            "total": points["total"],
            "online": points["online"],
            "offline": points["total"] - points["online"],
        },
        "connectors": by_status,
        "active_transactions": {"count": active_count, "items": active_items},
        "energy_kwh": {
            "today": daily[-1][1],
            "last_30_days": round(sum(kwh for _, kwh in daily), 3),
            "days": [{"day": day.isoformat(), "kwh": kwh} for day, kwh in daily],
        },
        "errors": recent_errors(),
    }
