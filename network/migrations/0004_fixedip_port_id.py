"""FixedIP.port_id: the Networking API's port of an allocated address; existing allocations
get one (a port is one fixed address of an instance)."""
import uuid

from django.db import migrations, models


def backfill(apps, schema_editor):
    FixedIP = apps.get_model("network", "FixedIP")
    for row in FixedIP.objects.filter(instance_uuid__isnull=False, port_id__isnull=True).only("id"):
        FixedIP.objects.filter(pk=row.pk).update(port_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("network", "0003_network_soft_delete_model")]

    operations = [
        migrations.AddField(model_name="fixedip", name="port_id",
                            field=models.UUIDField(blank=True, null=True, unique=True)),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
