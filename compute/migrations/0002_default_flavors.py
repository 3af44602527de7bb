"""Seed the five default flavors (m1.tiny .. m1.xlarge), as nova's first migration did."""
from django.db import migrations


def seed(apps, schema_editor):
    from compute.services.flavors import ensure_default_flavors

    ensure_default_flavors(apps.get_model("compute", "Flavor"))


def unseed(apps, schema_editor):
    from compute.services.flavors import DEFAULT_FLAVORS

    Flavor = apps.get_model("compute", "Flavor")
    for name, memory_mb, vcpus, root_gb, flavorid in DEFAULT_FLAVORS:
        Flavor.objects.filter(
            flavorid=flavorid, name=name, memory_mb=memory_mb, vcpus=vcpus, root_gb=root_gb
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("compute", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
