"""A meter value sample is stored once (charging_mv_unique_sample); earlier copies are removed first."""

import django.db.models.functions.comparison
import django.db.models.functions.text
from django.db import migrations, models

# Keep the first of each set of samples the constraint would refuse (same key, NULL timestamps
# never equal, as in the index), so that a database holding repeats can take the constraint.
DELETE_REPEATS = """
DELETE FROM charging_metervalue WHERE id IN (
    SELECT later.id
    FROM charging_metervalue later
    JOIN charging_metervalue earlier
      ON earlier.charge_point_id = later.charge_point_id
     AND earlier.connector_id = later.connector_id
     AND COALESCE(earlier.transaction_id, earlier.reported_transaction_id, 0)
       = COALESCE(later.transaction_id, later.reported_transaction_id, 0)
     AND earlier.timestamp = later.timestamp
     AND earlier.measurand = later.measurand
     AND earlier.phase = later.phase
     AND earlier.location = later.location
     AND earlier.context = later.context
     AND earlier.format = later.format
     AND earlier.unit = later.unit
     AND earlier.value = later.value
     AND earlier.id < later.id
)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("charging", "0014_auto_remote_start_rules"),
    ]

    operations = [
        migrations.RunSQL(DELETE_REPEATS, migrations.RunSQL.noop),
        migrations.AddConstraint(
            model_name="metervalue",
            constraint=models.UniqueConstraint(
                models.F("charge_point"),
                models.F("connector_id"),
                django.db.models.functions.comparison.Coalesce(
                    "transaction", "reported_transaction_id", models.Value(0)
                ),
                models.F("timestamp"),
                models.F("measurand"),
                models.F("phase"),
                models.F("location"),
                models.F("context"),
                models.F("format"),
                models.F("unit"),
                django.db.models.functions.text.MD5("value"),
                name="charging_mv_unique_sample",
            ),
        ),
    ]
