"""Compute API 2.53 / 2.55 / 2.59 / 2.63: services and compute nodes get a uuid, flavors a
description, migration records a uuid, instances their trusted image certificate ids. Existing
rows get a fresh uuid each."""
import uuid

from django.db import migrations, models


def fill_uuids(apps, schema_editor):
    for model in ("Service", "ComputeNode", "Migration"):
        rows = apps.get_model("compute", model)
        for pk in rows.objects.filter(uuid__isnull=True).values_list("pk", flat=True):
            rows.objects.filter(pk=pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ("compute", "0010_instance_display_description"),
    ]

    operations = [
        migrations.AddField(model_name="flavor", name="description", field=models.TextField(blank=True, null=True)),
        migrations.AddField(model_name="instance", name="trusted_certs", field=models.JSONField(blank=True, null=True)),
        migrations.AddField(model_name="service", name="uuid", field=models.UUIDField(editable=False, null=True)),
        migrations.AddField(model_name="computenode", name="uuid", field=models.UUIDField(editable=False, null=True)),
        migrations.AddField(model_name="migration", name="uuid", field=models.UUIDField(editable=False, null=True)),
        migrations.RunPython(fill_uuids, migrations.RunPython.noop),
        migrations.AlterField(model_name="service", name="uuid",
                              field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
        migrations.AlterField(model_name="computenode", name="uuid",
                              field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
        migrations.AlterField(model_name="migration", name="uuid",
                              field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
    ]
