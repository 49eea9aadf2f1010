"""Small admin forms that collect the parameters of a command to a charge point (OCPP 1.6 §5)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone

from .clock import format_ocpp_time
from .models import ChargePoint


class CommandForm(forms.Form):
    """A form whose `payload()` is the OCPP 1.6 request payload, spelled as the spec does."""

    def payload(self) -> dict[str, Any]:
        raise NotImplementedError


def _without_none(payload: dict[str, Any]) -> dict[str, Any]:
    # Optional fields are left out, not sent as null: the 1.6 schemas do not allow null.
    return {key: value for key, value in payload.items() if value is not None}


class RemoteStartForm(CommandForm):
    id_tag = forms.CharField(label="idTag", max_length=20)
    connector_id = forms.IntegerField(
        label="connectorId", min_value=1, required=False, help_text="Empty: the charger chooses"
    )

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        return _without_none({"idTag": data["id_tag"], "connectorId": data["connector_id"]})


class ReserveNowForm(CommandForm):
    """ReserveNow.req without reservationId: `charging.commands.send` gives it a new
    reservation's id."""

    connector_id = forms.IntegerField(
        label="connectorId", min_value=0, initial=1, help_text="0: any connector"
    )
    id_tag = forms.CharField(label="idTag", max_length=20)
    minutes = forms.IntegerField(
        label="valid for (minutes)", min_value=1, max_value=7 * 24 * 60, initial=30
    )
    parent_id_tag = forms.CharField(label="parentIdTag", max_length=20, required=False)

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        expiry = timezone.now() + timedelta(minutes=data["minutes"])
        return _without_none(
            {
                "connectorId": data["connector_id"],
                "idTag": data["id_tag"],
                "expiryDate": format_ocpp_time(expiry),
                "parentIdTag": data["parent_id_tag"] or None,
            }
        )


class UpdateFirmwareForm(CommandForm):
    """UpdateFirmware.req to each selected charge point: a firmware campaign."""

    location = forms.URLField(label="location", max_length=512, assume_scheme="https")
    retrieve_in_minutes = forms.IntegerField(
        label="retrieve in (minutes)", min_value=0, initial=0, help_text="0: at once"
    )
    retries = forms.IntegerField(label="retries", min_value=0, required=False)

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        retrieve = timezone.now() + timedelta(minutes=data["retrieve_in_minutes"])
        return _without_none(
            {
                "location": data["location"],
                "retrieveDate": format_ocpp_time(retrieve),
                "retries": data["retries"],
            }
        )


class GetDiagnosticsForm(CommandForm):
    location = forms.CharField(
        label="location", max_length=512, help_text="Where the charger uploads (ftp://, https://)"
    )

    def payload(self) -> dict[str, Any]:
        return {"location": self.cleaned_data["location"]}


class ChangeAvailabilityForm(CommandForm):
    connector_id = forms.IntegerField(
        label="connectorId", min_value=0, initial=0, help_text="0: the whole charge point"
    )
    availability = forms.ChoiceField(
        label="type", choices=[("Operative", "Operative"), ("Inoperative", "Inoperative")]
    )

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"connectorId": data["connector_id"], "type": data["availability"]}


class UnlockConnectorForm(CommandForm):
    connector_id = forms.IntegerField(label="connectorId", min_value=1, initial=1)

    def payload(self) -> dict[str, Any]:
        return {"connectorId": self.cleaned_data["connector_id"]}


# TriggerMessage.req requestedMessage (OCPP 1.6 §6.52 MessageTrigger).
MESSAGE_TRIGGERS = [
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
]


class TriggerMessageForm(CommandForm):
    requested_message = forms.ChoiceField(
        label="requestedMessage", choices=[(name, name) for name in MESSAGE_TRIGGERS]
    )
    connector_id = forms.IntegerField(label="connectorId", min_value=0, required=False)

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        return _without_none(
            {"requestedMessage": data["requested_message"], "connectorId": data["connector_id"]}
        )


class GetConfigurationForm(CommandForm):
    keys = forms.CharField(
        label="key",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="One key per line or comma-separated; empty: every key",
    )

    def payload(self) -> dict[str, Any]:
        raw = self.cleaned_data["keys"].replace(",", "\n")
        keys = [key.strip() for key in raw.splitlines() if key.strip()]
        return {"key": keys} if keys else {}


class ChangeConfigurationForm(CommandForm):
    key = forms.CharField(label="key", max_length=50)
    value = forms.CharField(label="value", max_length=500)

    def payload(self) -> dict[str, Any]:
        return {"key": self.cleaned_data["key"], "value": self.cleaned_data["value"]}


class AuthorizationKeyForm(forms.Form):
    """Set a charge point's HTTP Basic password (charging.admission); only its hash is kept."""

    key = forms.CharField(
        label="authorization key",
        required=False,
        strip=False,
        min_length=16,
        max_length=40,
        widget=forms.PasswordInput(render_value=False),
        help_text="16 to 40 characters; empty: a random one is generated and shown once",
    )
    rotate = forms.BooleanField(
        label="send it to the charge point first",
        required=False,
        initial=True,
        help_text="ChangeConfiguration AuthorizationKey; the key is stored only when the charge "
        "point answers Accepted. Unticked: store it as configured on the charger by hand",
    )


class ChargePointAddForm(forms.ModelForm):
    """Register a charge point before it connects (needed when unknown ones are rejected)."""

    new_authorization_key = AuthorizationKeyForm.base_fields["key"]

    class Meta:
        model = ChargePoint
        fields = ["id"]


# --- smart charging (OCPP 1.6 §3.13) ---------------------------------------------------------

PURPOSES = [(p, p) for p in ("TxDefaultProfile", "ChargePointMaxProfile", "TxProfile")]
RATE_UNITS = [("A", "A (amperes)"), ("W", "W (watts)")]


def _optional(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", "—"), *choices]


class SetChargingProfileForm(CommandForm):
    """SetChargingProfile.req; without chargingProfileId `charging.commands.send` gives the
    charge point's next one."""

    connector_id = forms.IntegerField(
        label="connectorId", min_value=0, initial=0, help_text="0: the whole charge point"
    )
    charging_profile_id = forms.IntegerField(
        label="chargingProfileId", required=False, help_text="Empty: the next free id"
    )
    stack_level = forms.IntegerField(label="stackLevel", min_value=0, initial=0)
    purpose = forms.ChoiceField(label="chargingProfilePurpose", choices=PURPOSES)
    transaction_id = forms.IntegerField(
        label="transactionId", required=False, help_text="TxProfile: the running transaction"
    )
    kind = forms.ChoiceField(
        label="chargingProfileKind",
        choices=[(k, k) for k in ("Absolute", "Relative", "Recurring")],
        help_text="Absolute and Recurring start now unless validFrom says otherwise",
    )
    recurrency_kind = forms.ChoiceField(
        label="recurrencyKind",
        choices=_optional([("Daily", "Daily"), ("Weekly", "Weekly")]),
        required=False,
    )
    charging_rate_unit = forms.ChoiceField(label="chargingRateUnit", choices=RATE_UNITS)
    periods = forms.CharField(
        label="chargingSchedulePeriod",
        widget=forms.Textarea(attrs={"rows": 4}),
        initial="0 16",
        help_text="One period per line: startPeriod (s) limit [numberPhases]; the first at 0",
    )
    duration = forms.IntegerField(label="duration (s)", min_value=1, required=False)
    valid_to = forms.DateTimeField(label="validTo", required=False)

    def clean_periods(self) -> list[dict[str, Any]]:
        periods = []
        for line in self.cleaned_data["periods"].splitlines():
            parts = line.replace(",", " ").split()
            if not parts:
                continue
            try:
                period: dict[str, Any] = {"startPeriod": int(parts[0]), "limit": float(parts[1])}
                if len(parts) > 2:
                    period["numberPhases"] = int(parts[2])
            except (IndexError, ValueError):
                raise forms.ValidationError(
                    f"not “startPeriod limit [numberPhases]”: {line}"
                ) from None
            periods.append(period)
        if not periods or periods[0]["startPeriod"] != 0:
            raise forms.ValidationError("The first period starts at 0 (OCPP 1.6 §7.13)")
        return periods

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        schedule = _without_none(
            {
                "duration": data["duration"],
                "chargingRateUnit": data["charging_rate_unit"],
                "chargingSchedulePeriod": data["periods"],
            }
        )
        if data["kind"] != "Relative":  # Relative starts with the transaction
            schedule["startSchedule"] = format_ocpp_time(timezone.now())
        profile = _without_none(
            {
                "chargingProfileId": data["charging_profile_id"],
                "transactionId": data["transaction_id"],
                "stackLevel": data["stack_level"],
                "chargingProfilePurpose": data["purpose"],
                "chargingProfileKind": data["kind"],
                "recurrencyKind": data["recurrency_kind"] or None,
                "validTo": format_ocpp_time(data["valid_to"]) if data["valid_to"] else None,
                "chargingSchedule": schedule,
            }
        )
        return {"connectorId": data["connector_id"], "csChargingProfiles": profile}


class ClearChargingProfileForm(CommandForm):
    """ClearChargingProfile.req: the profile with `id`, or those matching the other fields;
    everything empty clears every profile."""

    id = forms.IntegerField(label="id", required=False, help_text="Given: only this profile")
    connector_id = forms.IntegerField(label="connectorId", min_value=0, required=False)
    purpose = forms.ChoiceField(
        label="chargingProfilePurpose", choices=_optional(PURPOSES), required=False
    )
    stack_level = forms.IntegerField(label="stackLevel", min_value=0, required=False)

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        return _without_none(
            {
                "id": data["id"],
                "connectorId": data["connector_id"],
                "chargingProfilePurpose": data["purpose"] or None,
                "stackLevel": data["stack_level"],
            }
        )


class GetCompositeScheduleForm(CommandForm):
    connector_id = forms.IntegerField(
        label="connectorId", min_value=0, initial=1, help_text="0: the grid connection"
    )
    duration = forms.IntegerField(label="duration (s)", min_value=1, initial=3600)
    charging_rate_unit = forms.ChoiceField(
        label="chargingRateUnit", choices=_optional(RATE_UNITS), required=False
    )

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        return _without_none(
            {
                "connectorId": data["connector_id"],
                "duration": data["duration"],
                "chargingRateUnit": data["charging_rate_unit"] or None,
            }
        )
