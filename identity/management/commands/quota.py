"""nova-manage's `project quota_usage_refresh`, as its own category.

    ./manage.py quota refresh                      # every project
    ./manage.py quota refresh --project <id|name>  # one project

Prints what was fixed (project, resource, old in_use, new in_use), or that nothing drifted.
"""
from django.core.management.base import CommandError

from cloudproj.cli import CategoryCommand
from identity.services import usage_refresh
from identity.models import Project


class Command(CategoryCommand):
    help = "Quota usage: refresh (recount in-use from the real resources)."
    actions = {"refresh": "Recount in_use of instances, cores, ram, floating_ips, security_groups, volumes, "
                          "snapshots and gigabytes from the real rows; fix the rows that drifted."}

    def add_action_arguments(self, name, parser):
        parser.add_argument("--project", help="project id or name, a deleted project's id too (default: every "
                                              "project)")

    def action_refresh(self, options):
        project_id = None
        if options.get("project"):
            ref = options["project"]
            project = Project.all_objects.filter(id=ref).first() or Project.objects.filter(name=ref).first()
            if project is None:
                raise CommandError(f"Project {ref} not found.")
            project_id = project.id
        changes = usage_refresh.refresh(project_id)
        if not changes:
            self.stdout.write("quota usage matches the real resources: nothing to fix")
            return
        self.table(["project", "resource", "in_use was", "in_use now"], [list(c) for c in changes])
