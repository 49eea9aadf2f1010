"""ChargePoint.reply_to (the gateway's AMQP reply queue) moves to ConnectionRoute, owned by
charging.dispatch."""

import django.db.models.deletion
from django.db import migrations, models


def to_routes(apps, schema_editor):
    _checked_now(schema_editor)
    ChargePoint = apps.get_model("charging", "ChargePoint")
    ConnectionRoute = apps.get_model("charging", "ConnectionRoute")
    ConnectionRoute.objects.bulk_create(
        ConnectionRoute(charge_point_id=pk, reply_to=reply_to)
        for pk, reply_to in ChargePoint.objects.exclude(reply_to="").values_list("pk", "reply_to")
    )


def to_charge_points(apps, schema_editor):
    _checked_now(schema_editor)
    ChargePoint = apps.get_model("charging", "ChargePoint")
    ConnectionRoute = apps.get_model("charging", "ConnectionRoute")
    for pk, reply_to in ConnectionRoute.objects.values_list("charge_point_id", "reply_to"):
        ChargePoint.objects.filter(pk=pk).update(reply_to=reply_to)


def _checked_now(schema_editor):
    # No deferred foreign-key checks left pending for the ALTER TABLE that follows (PostgreSQL
    # refuses it otherwise).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("charging", "0019_outbound_call_flow"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConnectionRoute",
            fields=[
                (
                    "charge_point",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="route",
                        serialize=False,
                        to="charging.chargepoint",
                    ),
                ),
                ("reply_to", models.CharField(blank=True, default="", max_length=255)),
            ],
        ),
        migrations.RunPython(to_routes, to_charge_points),
        migrations.RemoveField(
            model_name="chargepoint",
            name="reply_to",
        ),
    ]
