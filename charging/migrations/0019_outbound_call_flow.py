"""OutboundCall.callback and .confirm (dotted paths) become `flow`, a registered name."""

from django.db import migrations, models

# The dotted paths ever stored, and what stands for them now (charging.services.outbound_actions).
AUTO_REMOTE_START = "AutoRemoteStart"
FLOWS = {
    "charging.middleware.auto_remote_start.remote_start_answered": AUTO_REMOTE_START,
    "charging.services.auto_remote_start_confirm": AUTO_REMOTE_START,
    # The profile's end is its action's own now (SetChargingProfile, RemoteStartTransaction).
    "charging.services.charging_profiles.charging_profile_call_ended": "",
}
PATHS = {
    AUTO_REMOTE_START: (
        "charging.middleware.auto_remote_start.remote_start_answered",
        "charging.services.auto_remote_start_confirm",
    )
}


def to_flows(apps, schema_editor):
    _checked_now(schema_editor)
    OutboundCall = apps.get_model("charging", "OutboundCall")
    for path, flow in FLOWS.items():
        if flow:
            OutboundCall.objects.filter(callback=path).update(flow=flow)
            OutboundCall.objects.filter(confirm=path).update(flow=flow)


def to_paths(apps, schema_editor):
    _checked_now(schema_editor)
    OutboundCall = apps.get_model("charging", "OutboundCall")
    for flow, (callback, confirm) in PATHS.items():
        OutboundCall.objects.filter(flow=flow).update(callback=callback, confirm=confirm)
    OutboundCall.objects.filter(
        flow="", action__in=["SetChargingProfile", "RemoteStartTransaction"]
    ).update(callback="charging.services.charging_profiles.charging_profile_call_ended")


def _checked_now(schema_editor):
    # No deferred foreign-key checks left pending for the ALTER TABLE that follows (PostgreSQL
    # refuses it otherwise).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("charging", "0018_charge_point_id_rule"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboundcall",
            name="flow",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.RunPython(to_flows, to_paths),
        migrations.RemoveField(model_name="outboundcall", name="callback"),
        migrations.RemoveField(model_name="outboundcall", name="confirm"),
    ]
