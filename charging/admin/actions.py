"""Admin actions (Django's, on selected rows): sending commands to chargers, admission and
validation (docs/glossary.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from .. import admission, commands, forms, selectors, services
from ..models import ChargePoint

# Seconds an admin request waits for a charger's answer; a later answer shows in Outbound calls.
ADMIN_COMMAND_WAIT = 15.0
_GOOD_STATUSES = {"Accepted", "Unlocked"}


def _send_command(
    request: HttpRequest, *, charge_point_id: str, action: str, payload: dict[str, Any]
) -> None:
    """Send one CALL, wait briefly, and report the charger's answer (or why none) as a message."""
    try:
        response = commands.call(
            charge_point_id,
            action,
            payload,
            wait=ADMIN_COMMAND_WAIT,
            requested_by=request.user.get_username(),
        )
    except commands.InvalidCommand as exc:
        text = f"{charge_point_id}: {action} not sent, invalid: {exc.code} {exc.details or exc}"
        messages.error(request, text)
    except commands.ChargePointOffline:
        messages.error(request, f"{charge_point_id}: {action} failed: not connected")
    except commands.CallTimeout:
        messages.error(
            request,
            f"{charge_point_id}: {action}: no answer within {ADMIN_COMMAND_WAIT:g} s "
            "(a later answer shows in Outbound calls)",
        )
    except commands.CallError as exc:
        messages.error(
            request,
            f"{charge_point_id}: {action}: the charge point answered CALLERROR "
            f"{exc.code}: {exc.description}",
        )
    except commands.CommandError as exc:
        messages.error(request, f"{charge_point_id}: {action} failed: {exc}")
    else:
        status = response.get("status") if isinstance(response, dict) else None
        level = messages.SUCCESS if status is None or status in _GOOD_STATUSES else messages.WARNING
        messages.add_message(
            request, level, f"{charge_point_id}: {action} → {json.dumps(response, sort_keys=True)}"
        )


def _send_for_each(
    request: HttpRequest,
    rows: QuerySet,
    *,
    action: str,
    payload: Callable[[Any], dict[str, Any]],
    refusal: Callable[[Any], str | None],
) -> None:
    """Send `action` about each selected row (a reservation, a profile) to its charge point;
    a row `refusal` names a reason for is skipped with that warning."""
    for row in rows.order_by("id"):
        reason = refusal(row)
        if reason is not None:
            messages.warning(request, reason)
            continue
        _send_command(
            request, charge_point_id=row.charge_point_id, action=action, payload=payload(row)
        )


# Commands that can interrupt a charging session: each asks first, showing the charge points and
# their active transactions (the ones with parameters on their form's page).
DISRUPTIVE = frozenset(
    {"Reset", "UnlockConnector", "ChangeAvailability", "ClearCache", "UpdateFirmware"}
)


def command_page(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[ChargePoint],
    *,
    title: str,
    action: str,
    admin_action: str,
    form: Form | None,
) -> TemplateResponse:
    """The page between choosing a command and sending it: its parameters (`form`), or only a
    confirmation, above the charge points it goes to and their active transactions."""
    targets = [
        (
            cp,
            getattr(cp, "open_transactions", None)
            or list(selectors.transaction_list(charge_point_id=cp.id, active=True)),
        )
        for cp in queryset.order_by("id")
    ]
    return TemplateResponse(
        request,
        "admin/charging/command_form.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "opts": modeladmin.model._meta,
            "form": form,
            "ocpp_action": action,
            "admin_action": admin_action,
            "targets": targets,
            "disruptive": action in DISRUPTIVE,
            "interrupts": action in DISRUPTIVE and any(open_ones for _, open_ones in targets),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            # Sent from a charge point's page: go back there afterwards.
            "from_change": request.POST.get("_from_change", ""),
        },
    )


def _command_action(
    name: str,
    *,
    action: str,
    description: str,
    payload: dict[str, Any] | None = None,
    form_class: type[forms.CommandForm] | None = None,
) -> Callable[[admin.ModelAdmin, HttpRequest, QuerySet], HttpResponse | None]:
    """An admin action sending `action` to each selected charge point; a form asks for
    parameters, a disruptive one without parameters for a confirmation."""

    def run(
        modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ChargePoint]
    ) -> HttpResponse | None:
        body = payload or {}
        applied = "apply" in request.POST
        form = form_class(request.POST if applied else None) if form_class else None
        if (form is not None and not form.is_valid()) or (action in DISRUPTIVE and not applied):
            return command_page(
                modeladmin,
                request,
                queryset,
                title=description,
                action=action,
                admin_action=name,
                form=form,
            )
        if form is not None:
            body = form.payload()
        for charge_point in queryset.order_by("id"):
            _send_command(request, charge_point_id=charge_point.id, action=action, payload=body)
        return None

    run.__name__ = name
    return admin.action(description=description, permissions=["command"])(run)


class CommandPermissionMixin:
    def has_command_permission(self, request: HttpRequest) -> bool:
        # Commanding a charger is changing it; ReadOnlyAdmin's change rule is about hand edits.
        return request.user.has_perm("charging.change_chargepoint")


COMMAND_ACTIONS = [
    _command_action(
        "reset_soft", action="Reset", description="Reset (soft)", payload={"type": "Soft"}
    ),
    _command_action(
        "reset_hard", action="Reset", description="Reset (hard)", payload={"type": "Hard"}
    ),
    _command_action(
        "change_availability",
        action="ChangeAvailability",
        description="Change availability…",
        form_class=forms.ChangeAvailabilityForm,
    ),
    _command_action(
        "unlock_connector",
        action="UnlockConnector",
        description="Unlock connector…",
        form_class=forms.UnlockConnectorForm,
    ),
    _command_action("clear_cache", action="ClearCache", description="Clear cache"),
    _command_action(
        "trigger_message",
        action="TriggerMessage",
        description="Trigger message…",
        form_class=forms.TriggerMessageForm,
    ),
    _command_action(
        "get_configuration",
        action="GetConfiguration",
        description="Get configuration…",
        form_class=forms.GetConfigurationForm,
    ),
    _command_action(
        "change_configuration",
        action="ChangeConfiguration",
        description="Change configuration…",
        form_class=forms.ChangeConfigurationForm,
    ),
    _command_action(
        "remote_start",
        action="RemoteStartTransaction",
        description="Remote start…",
        form_class=forms.RemoteStartForm,
    ),
    _command_action(
        "update_firmware",
        action="UpdateFirmware",
        description="Update firmware…",
        form_class=forms.UpdateFirmwareForm,
    ),
    _command_action(
        "get_diagnostics",
        action="GetDiagnostics",
        description="Get diagnostics…",
        form_class=forms.GetDiagnosticsForm,
    ),
    _command_action(
        "reserve_now",
        action="ReserveNow",
        description="Reserve now…",
        form_class=forms.ReserveNowForm,
    ),
    _command_action(
        "set_charging_profile",
        action="SetChargingProfile",
        description="Set charging profile…",
        form_class=forms.SetChargingProfileForm,
    ),
    _command_action(
        "clear_charging_profile",
        action="ClearChargingProfile",
        description="Clear charging profiles…",
        form_class=forms.ClearChargingProfileForm,
    ),
    _command_action(
        "get_composite_schedule",
        action="GetCompositeSchedule",
        description="Get composite schedule…",
        form_class=forms.GetCompositeScheduleForm,
    ),
]


def _sync_local_list_action(name: str, *, full: bool, description: str) -> Callable[..., None]:
    def run(
        modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ChargePoint]
    ) -> None:
        for charge_point in queryset.order_by("id"):
            try:
                sync = commands.sync_local_list(
                    charge_point.id,
                    full=full,
                    wait=ADMIN_COMMAND_WAIT,
                    requested_by=request.user.get_username(),
                )
            except commands.CommandError as exc:
                messages.error(request, f"{charge_point.id}: local list not sent: {exc}")
                continue
            if sync.update_type is None:
                messages.info(
                    request, f"{charge_point.id}: local list up to date (version {sync.version})"
                )
                continue
            status = (sync.response or {}).get("status")
            level = messages.SUCCESS if status == "Accepted" else messages.WARNING
            messages.add_message(
                request,
                level,
                f"{charge_point.id}: {sync.update_type} local list version {sync.version} "
                f"({sync.entries} entries) → {status}",
            )

    run.__name__ = name
    return admin.action(description=description, permissions=["command"])(run)


COMMAND_ACTIONS += [
    _sync_local_list_action("sync_local_list", full=False, description="Sync local list"),
    _sync_local_list_action(
        "sync_local_list_full", full=True, description="Send the whole local list"
    ),
]


# --- admission: approval and authorization keys ----------------------------------------------


@admin.action(description="Approve (BootNotification Accepted)", permissions=["command"])
def approve(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ChargePoint]
) -> None:
    for charge_point in queryset.order_by("id"):
        approval = admission.charge_point_approve(
            charge_point=charge_point, approved=True, requested_by=request.user.get_username()
        )
        note = ""
        if approval.rebooting:
            note = "; asked it to boot again (TriggerMessage)"
        elif approval.reboot_error:
            note = "; it is accepted at its next BootNotification"
        messages.success(request, f"{charge_point.id}: approved{note}")


@admin.action(description="Withdraw approval (BootNotification Pending)", permissions=["command"])
def withdraw_approval(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ChargePoint]
) -> None:
    for charge_point in queryset.order_by("id"):
        admission.charge_point_approve(charge_point=charge_point, approved=False)
        messages.warning(request, f"{charge_point.id}: no longer approved")


@admin.action(description="Set authorization key…", permissions=["command"])
def set_authorization_key(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ChargePoint]
) -> HttpResponse | None:
    form = forms.AuthorizationKeyForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return command_page(
            modeladmin,
            request,
            queryset,
            title="Set authorization key",
            action="AuthorizationKey",
            admin_action="set_authorization_key",
            form=form,
        )
    rotate = form.cleaned_data["rotate"]
    for charge_point in queryset.order_by("id"):
        try:
            key = commands.authorization_key_apply(
                charge_point.id,
                key=form.cleaned_data["key"] or None,
                rotate=rotate,
                wait=ADMIN_COMMAND_WAIT,
                requested_by=request.user.get_username(),
            )
        except commands.CommandError as exc:
            messages.error(request, f"{charge_point.id}: authorization key not changed: {exc}")
            continue
        shown = "" if form.cleaned_data["key"] else f": {key} (shown once)"
        done = "changed" if rotate else "set"
        messages.success(request, f"{charge_point.id}: authorization key {done}{shown}")
    return None


@admin.action(description="Remove authorization key", permissions=["command"])
def remove_authorization_key(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ChargePoint]
) -> None:
    for charge_point in queryset.order_by("id"):
        admission.authorization_key_set(charge_point=charge_point, key=None)
        messages.warning(request, f"{charge_point.id}: authorization key removed")


ADMISSION_ACTIONS = [approve, withdraw_approval, set_authorization_key, remove_authorization_key]


# --- payload validation (docs/validation.md) -------------------------------------------------


def _validation_action(name: str, mode: str, description: str) -> Callable[..., None]:
    def action(
        modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[ChargePoint]
    ) -> None:
        for charge_point in queryset.order_by("id"):
            services.charge_point_validation_set(charge_point=charge_point, mode=mode)
            shown = mode or f"OCPP_VALIDATION ({selectors.validation_mode_default()})"
            messages.success(request, f"{charge_point.id}: validation {shown}")

    action.__name__ = name
    return admin.action(description=description, permissions=["command"])(action)


VALIDATION_ACTIONS = [
    _validation_action("validation_strict", "strict", "Validation: strict (certification)"),
    _validation_action("validation_lenient", "lenient", "Validation: lenient"),
    _validation_action("validation_default", "", "Validation: follow OCPP_VALIDATION"),
]
