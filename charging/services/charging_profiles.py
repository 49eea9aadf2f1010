"""Charging profiles (OCPP 1.6 §3.13 Smart Charging): our view of what each charger holds,
kept in step with its answers to SetChargingProfile, RemoteStartTransaction (chargingProfile)
and ClearChargingProfile, and with the transactions TxProfiles belong to."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from ..clock import parse_charger_time
from ..models import (
    ChargePoint,
    ChargingProfile,
    ChargingProfilePurpose,
    ChargingProfileStatus,
    OutboundCall,
    OutboundCallStatus,
    Transaction,
)
from .charge_points import charge_point_lock
from .messages import clean_json

logger = logging.getLogger(__name__)

# Where each action carries its profile (OCPP 1.6 §6.43 SetChargingProfile.req, §6.33
# RemoteStartTransaction.req).
PROFILE_FIELDS = {
    "SetChargingProfile": "csChargingProfiles",
    "RemoteStartTransaction": "chargingProfile",
}
# Rows that may still be on the charger, which a newer profile or a clear can take off it.
_HELD = (ChargingProfileStatus.INSTALLED, ChargingProfileStatus.UNCONFIRMED)


def charging_profile_in(*, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The charging profile a call payload carries, if any."""
    field = PROFILE_FIELDS.get(action)
    profile = payload.get(field) if field else None
    return profile if isinstance(profile, dict) else None


def charging_profile_refusal(*, action: str, payload: dict[str, Any]) -> str | None:
    """Why a schema-valid profile must not be sent, or None. OCPP 1.6 §3.13.1: a
    ChargePointMaxProfile is set on connectorId 0 only, a TxProfile on a connector above 0;
    §5.11: the profile of a RemoteStartTransaction is a TxProfile, without a transactionId (the
    transaction does not exist yet)."""
    profile = charging_profile_in(action=action, payload=payload)
    if profile is None:
        return None
    purpose = profile.get("chargingProfilePurpose")
    if action == "RemoteStartTransaction":
        if purpose != ChargingProfilePurpose.TX:
            return "the chargingProfile of a RemoteStartTransaction must be a TxProfile"
        if "transactionId" in profile:
            return "the chargingProfile of a RemoteStartTransaction has no transactionId yet"
        return None
    connector_id = payload.get("connectorId")
    if purpose == ChargingProfilePurpose.CHARGE_POINT_MAX and connector_id != 0:
        return "a ChargePointMaxProfile is set on connectorId 0 only"
    if purpose == ChargingProfilePurpose.TX and connector_id == 0:
        return "a TxProfile is set on a connector, not on connectorId 0"
    return None


def charging_profile_with_id(
    *, action: str, payload: dict[str, Any], charging_profile_id: int
) -> dict[str, Any]:
    """`payload` with its profile's chargingProfileId set."""
    field = PROFILE_FIELDS[action]
    return {**payload, field: {**payload[field], "chargingProfileId": charging_profile_id}}


def charging_profile_next_id(*, charge_point: ChargePoint) -> int:
    """A chargingProfileId this charge point never got from us: one above the highest sent.
    Under the charge point's lock, so two operators never get the same."""
    charge_point_lock(charge_point_id=charge_point.id)
    highest = (
        ChargingProfile.objects.filter(charge_point=charge_point)
        .order_by("-charging_profile_id")
        .values_list("charging_profile_id", flat=True)
        .first()
    )
    return max(highest or 0, 0) + 1


def _fields(profile: dict[str, Any]) -> dict[str, Any]:
    schedule = profile.get("chargingSchedule") or {}
    return {
        "charging_profile_id": int(profile["chargingProfileId"]),
        "stack_level": int(profile["stackLevel"]),
        "purpose": str(profile["chargingProfilePurpose"]),
        "kind": str(profile["chargingProfileKind"]),
        "recurrency_kind": str(profile.get("recurrencyKind") or ""),
        "valid_from": parse_charger_time(profile.get("validFrom")),
        "valid_to": parse_charger_time(profile.get("validTo")),
        "duration": schedule.get("duration"),
        "start_schedule": parse_charger_time(schedule.get("startSchedule")),
        "charging_rate_unit": str(schedule.get("chargingRateUnit") or ""),
        "min_charging_rate": schedule.get("minChargingRate"),
        "schedule_periods": clean_json(schedule.get("chargingSchedulePeriod") or []),
    }


def charging_profile_request(
    *, charge_point: ChargePoint, action: str, payload: dict[str, Any]
) -> ChargingProfile:
    """Record the profile a SetChargingProfile or RemoteStartTransaction is about to carry,
    `Requested`; one without chargingProfileId gets the next free id (the caller sends it)."""
    profile = dict(charging_profile_in(action=action, payload=payload) or {})
    if "chargingProfileId" not in profile:
        profile["chargingProfileId"] = charging_profile_next_id(charge_point=charge_point)
    transaction = None
    if profile.get("transactionId") is not None:
        transaction = Transaction.objects.filter(
            charge_point=charge_point, pk=profile["transactionId"]
        ).first()
    return ChargingProfile.objects.create(
        charge_point=charge_point,
        connector_id=payload.get("connectorId"),
        transaction=transaction,
        **_fields(profile),
    )


def _replace_others(profile: ChargingProfile, at: datetime) -> int:
    """A profile with the same chargingProfileId, or on the same connector with the same
    purpose and stackLevel, is replaced by `profile` on the charger (OCPP 1.6 §5.16)."""
    same = Q(charging_profile_id=profile.charging_profile_id) | Q(
        connector_id=profile.connector_id,
        purpose=profile.purpose,
        stack_level=profile.stack_level,
    )
    return (
        ChargingProfile.objects.filter(charge_point_id=profile.charge_point_id, status__in=_HELD)
        .filter(same)
        .exclude(pk=profile.pk)
        .update(status=ChargingProfileStatus.REPLACED, updated_at=at)
    )


def charging_profile_answered(
    *, call: OutboundCall, response: dict[str, Any]
) -> ChargingProfile | None:
    """SetChargingProfile.conf, or RemoteStartTransaction.conf of one carrying a profile:
    Accepted installs it (replacing what it replaces), anything else rejects it. A call sent
    around `charging.commands` has no row yet: it is made here."""
    payload = call.payload if isinstance(call.payload, dict) else {}
    if charging_profile_in(action=call.action, payload=payload) is None:
        return None
    profile = ChargingProfile.objects.select_for_update().filter(call=call).first()
    if profile is None:
        try:
            profile = charging_profile_request(
                charge_point=call.charge_point, action=call.action, payload=payload
            )
        except (KeyError, TypeError, ValueError):
            logger.warning(
                "%s: %s %s: unreadable profile", call.charge_point_id, call.action, call.unique_id
            )
            return None
        profile.call = call
    at = call.answered_at or timezone.now()
    status = str(response.get("status", ""))
    profile.answer = status[:64]
    profile.updated_at = at
    if profile.status in (ChargingProfileStatus.REQUESTED, ChargingProfileStatus.UNCONFIRMED):
        if status == "Accepted":
            _replace_others(profile, at)
            profile.status = ChargingProfileStatus.INSTALLED
        else:  # Rejected, NotSupported (§7.50 ChargingProfileStatus)
            profile.status = ChargingProfileStatus.REJECTED
    profile.save()
    return profile


def charging_profile_call_ended(*, call: OutboundCall) -> None:
    """The end of a call carrying a profile (services.outbound_actions): one that ended without an answer leaves it
    `Rejected` (CALLERROR) or `Unconfirmed` (timeout, offline: the charger may hold it)."""
    if call.status == OutboundCallStatus.ANSWERED:
        return  # charging_profile_answered, from the answer table
    refused = call.status == OutboundCallStatus.CALL_ERROR
    ChargingProfile.objects.filter(call=call, status=ChargingProfileStatus.REQUESTED).update(
        status=ChargingProfileStatus.REJECTED if refused else ChargingProfileStatus.UNCONFIRMED,
        answer=(call.error_code if refused else call.status)[:64],
        updated_at=call.answered_at or timezone.now(),
    )


def charging_profiles_matching(
    *, charge_point: ChargePoint, criteria: dict[str, Any]
) -> QuerySet[ChargingProfile]:
    """The held profiles a ClearChargingProfile.req names (OCPP 1.6 §5.5, §6.13): the one with
    its `id`, or else those matching every criterion given among connectorId (0: the whole
    charge point's), chargingProfilePurpose and stackLevel; none given: all of them."""
    profiles = ChargingProfile.objects.filter(charge_point=charge_point, status__in=_HELD)
    if criteria.get("id") is not None:
        return profiles.filter(charging_profile_id=criteria["id"])
    for field, name in (
        ("connector_id", "connectorId"),
        ("purpose", "chargingProfilePurpose"),
        ("stack_level", "stackLevel"),
    ):
        if criteria.get(name) is not None:
            profiles = profiles.filter(**{field: criteria[name]})
    return profiles


def charging_profiles_clear_answered(*, call: OutboundCall, response: dict[str, Any]) -> int:
    """ClearChargingProfile.conf Accepted: every profile it names is cleared; how many.
    Unknown (the charger had none matching) changes nothing of ours."""
    if response.get("status") != "Accepted":
        return 0
    payload = call.payload if isinstance(call.payload, dict) else {}
    return charging_profiles_matching(charge_point=call.charge_point, criteria=payload).update(
        status=ChargingProfileStatus.CLEARED,
        cleared_by=call,
        updated_at=call.answered_at or timezone.now(),
    )


def charging_profile_bind(*, transaction: Transaction) -> ChargingProfile | None:
    """A StartTransaction: the TxProfile of the RemoteStartTransaction that asked for it (same
    idTag, on its connector or on any) belongs to the transaction from now on (§5.11: the
    charger adds the transactionId to it)."""
    candidates = (
        ChargingProfile.objects.select_for_update()
        .select_related("call")
        .filter(
            charge_point_id=transaction.charge_point_id,
            purpose=ChargingProfilePurpose.TX,
            transaction__isnull=True,
            status__in=ChargingProfile.LIVE_STATUSES,
            call__action="RemoteStartTransaction",
        )
        .filter(Q(connector_id=transaction.connector_id) | Q(connector_id__isnull=True))
        .order_by("-id")
    )
    for profile in candidates:
        id_tag = str((profile.call.payload or {}).get("idTag", ""))
        if id_tag.lower() != transaction.id_tag.lower():  # IdToken is case insensitive
            continue
        at = timezone.now()
        profile.transaction = transaction
        profile.connector_id = transaction.connector_id
        profile.updated_at = at
        if profile.status == ChargingProfileStatus.INSTALLED:
            _replace_others(profile, at)  # now that its connector is known
        profile.save(update_fields=["transaction", "connector_id", "updated_at"])
        return profile
    return None


def charging_profiles_end(*, transaction: Transaction, at: datetime | None = None) -> int:
    """The transaction stopped: its TxProfiles end with it (OCPP 1.6 §3.13.1: the charger
    deletes them). How many."""
    return ChargingProfile.objects.filter(
        transaction=transaction, status__in=ChargingProfile.LIVE_STATUSES
    ).update(status=ChargingProfileStatus.ENDED, updated_at=at or timezone.now())
