"""Projects deleted before tombstones existed left servers, volumes and snapshots naming a
project id with no row (those columns have no constraint), and their quota usage rows went
with them: deleting such a server then failed on the usage rows' foreign key. Each such id gets
a tombstone now (deleted, disabled, named "deleted-<id>"), so those resources are listed,
marked and deleted like those of any deleted project; their usage starts from what they hold
(`manage.py quota refresh` counts it) and is given back as they go."""
from django.db import migrations
from django.utils import timezone

OWNERS = (("compute", "Instance"), ("volumes", "Volume"), ("volumes", "Snapshot"))


def add_tombstones(apps, schema_editor):
    Project = apps.get_model("identity", "Project")
    known = set(Project._base_manager.values_list("id", flat=True))  # every row, tombstones too
    missing: set[str] = set()
    for app_label, model_name in OWNERS:
        model = apps.get_model(app_label, model_name)
        ids = model._base_manager.filter(deleted_at__isnull=True).values_list("project_id", flat=True).distinct()
        missing.update(pid for pid in ids if pid and pid not in known)
    now = timezone.now()
    Project._base_manager.bulk_create([
        Project(id=pid, name=f"deleted-{pid}", enabled=False, deleted_at=now, description="deleted before "
                "tombstones were kept (migration identity 0010)") for pid in sorted(missing)
    ])


class Migration(migrations.Migration):

    dependencies = [
        ("identity", "0009_project_tombstone"),
        ("compute", "0004_flavor_soft_delete_model"),
        ("volumes", "0007_qos_specs"),
    ]

    operations = [migrations.RunPython(add_tombstones, migrations.RunPython.noop)]
