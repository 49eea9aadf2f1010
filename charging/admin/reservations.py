"""Admin of reservations: what ReserveNow, the charger's answers and StartTransaction made of
them; reservations are made with the charge points' *Reserve now…* action."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ..models import Reservation
from .actions import CommandPermissionMixin, _send_for_each
from .base import ReadOnlyAdmin


@admin.register(Reservation)
class ReservationAdmin(CommandPermissionMixin, ReadOnlyAdmin):
    actions = ["cancel_reservation"]
    list_display = (
        "id",
        "charge_point",
        "connector_id",
        "id_tag",
        "expiry_date",
        "status",
        "transaction",
        "updated_at",
    )
    list_filter = ("status",)
    search_fields = ("=id", "charge_point__id", "id_tag")
    list_select_related = ("charge_point", "transaction")
    readonly_fields = tuple(field.name for field in Reservation._meta.fields)

    @admin.action(description="Cancel reservation", permissions=["command"])
    def cancel_reservation(self, request: HttpRequest, queryset: QuerySet[Reservation]) -> None:
        _send_for_each(
            request,
            queryset,
            action="CancelReservation",
            payload=lambda reservation: {"reservationId": reservation.id},
            refusal=lambda reservation: (
                None
                if reservation.status in Reservation.ACTIVE_STATUSES
                else f"Reservation {reservation.id} is {reservation.status}"
            ),
        )
