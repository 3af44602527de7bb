"""Groups and rules get the UUID both APIs show; rules get `direction`, `ethertype` and
`description`. Egress becomes enforced, so every existing group gets Neutron's default
egress rule (IPv4, every protocol, to anywhere) and what its members may send is unchanged."""
import uuid

from django.db import migrations, models


def fill_uuids(apps, schema_editor):
    for name in ("SecurityGroup", "SecurityGroupRule"):
        model = apps.get_model("secgroups", name)
        for pk in model.objects.filter(uuid__isnull=True).values_list("pk", flat=True).iterator():
            model.objects.filter(pk=pk).update(uuid=uuid.uuid4())


def egress_any(apps, schema_editor):
    SecurityGroup = apps.get_model("secgroups", "SecurityGroup")
    SecurityGroupRule = apps.get_model("secgroups", "SecurityGroupRule")
    for group in SecurityGroup.objects.iterator():
        if not SecurityGroupRule.objects.filter(parent_group=group, direction="egress", protocol__isnull=True,
                                                cidr__isnull=True, group__isnull=True).exists():
            SecurityGroupRule.objects.create(parent_group=group, direction="egress", ethertype="IPv4",
                                             protocol=None, cidr=None, group=None, uuid=uuid.uuid4())


class Migration(migrations.Migration):

    dependencies = [
        ("secgroups", "0002_existing_instances"),
    ]

    operations = [
        migrations.AddField(model_name="securitygroup", name="uuid",
                            field=models.UUIDField(null=True, editable=False)),
        migrations.AddField(model_name="securitygrouprule", name="uuid",
                            field=models.UUIDField(null=True, editable=False)),
        migrations.AddField(model_name="securitygrouprule", name="direction",
                            field=models.CharField(choices=[("ingress", "ingress"), ("egress", "egress")],
                                                   default="ingress", max_length=7)),
        migrations.AddField(model_name="securitygrouprule", name="ethertype",
                            field=models.CharField(choices=[("IPv4", "IPv4")], default="IPv4", max_length=4)),
        migrations.AddField(model_name="securitygrouprule", name="description",
                            field=models.CharField(blank=True, default="", max_length=255)),
        migrations.AddField(model_name="securitygrouprule", name="updated_at",
                            field=models.DateTimeField(auto_now=True)),
        migrations.AddField(model_name="securitygroup", name="revision_number",
                            field=models.IntegerField(default=0)),
        migrations.RunPython(fill_uuids, migrations.RunPython.noop),
        migrations.AlterField(model_name="securitygroup", name="uuid",
                              field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
        migrations.AlterField(model_name="securitygrouprule", name="uuid",
                              field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
        migrations.RunPython(egress_any, migrations.RunPython.noop),
    ]
