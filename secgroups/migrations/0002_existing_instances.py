"""Servers created before security groups existed join the groups they asked for (the
`default` group when none): the groups are created in their project, with the `default`
group's same-group rule, and the projects' security_groups usage is recounted."""
from django.db import migrations

DEFAULT = "default"


def forwards(apps, schema_editor):
    Instance = apps.get_model("compute", "Instance")
    SecurityGroup = apps.get_model("secgroups", "SecurityGroup")
    SecurityGroupRule = apps.get_model("secgroups", "SecurityGroupRule")
    SecurityGroupMember = apps.get_model("secgroups", "SecurityGroupMember")
    QuotaUsage = apps.get_model("identity", "QuotaUsage")
    Project = apps.get_model("identity", "Project")
    projects = set()
    for instance in Instance.objects.filter(deleted_at__isnull=True).iterator():
        if not Project.objects.filter(pk=instance.project_id).exists():
            continue
        names = []
        for entry in instance.security_groups or []:
            name = entry.get("name") if isinstance(entry, dict) else entry
            if isinstance(name, str) and name.strip() and name not in names:
                names.append(name[:255])
        names = names or [DEFAULT]
        for name in names:
            group, created = SecurityGroup.objects.get_or_create(
                project_id=instance.project_id, name=name, defaults={"description": name})
            if created and name == DEFAULT:
                SecurityGroupRule.objects.create(parent_group=group, protocol=None, group=group)
            SecurityGroupMember.objects.get_or_create(security_group=group, instance=instance)
        if instance.security_groups != names:
            Instance.objects.filter(pk=instance.pk).update(security_groups=names)
        projects.add(instance.project_id)
    for project_id in projects:
        count = SecurityGroup.objects.filter(project_id=project_id).count()
        usage, _ = QuotaUsage.objects.get_or_create(project_id=project_id, resource="security_groups")
        usage.in_use = count
        usage.save(update_fields=["in_use"])


class Migration(migrations.Migration):
    dependencies = [("secgroups", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
