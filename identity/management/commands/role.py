"""nova-manage's `role` category: add, remove, has, list.

    ./manage.py role add john netadmin                 # global role
    ./manage.py role add john netadmin john_project    # role on one project

The seeds' `projectmanager` role comes with the project (`project create --manager`) and
cannot be added or removed by hand.
"""
from django.core.management.base import CommandError
from django.db.models import F

from cloudproj.cli import CategoryCommand
from identity.services import accounts
from identity.management.common import get_project, get_role, get_user
from identity.models import RoleAssignment

MANAGED_ROLE = "projectmanager"


def scope_name(project) -> str:
    return f"in project {project.name}" if project is not None else "globally"


class Command(CategoryCommand):
    help = "Manage role assignments: global (no project) or on a project."
    actions = {
        "add": "Grant a role to a user, on a project or (with no project) globally.",
        "remove": "Take a role from a user, on a project or (with no project) globally.",
        "has": "Print True if the user holds the role (on the project, or globally), else False.",
        "list": "List role assignments, optionally of one user and/or one project.",
        "roles": "List the roles that exist.",
    }

    def add_action_arguments(self, name, parser):
        if name in ("add", "remove", "has"):
            parser.add_argument("user", help="user name or id")
            parser.add_argument("role", help="role name, e.g. member, admin, netadmin")
            parser.add_argument("project", nargs="?", help="project name or id (none: a global role)")
        elif name == "list":
            parser.add_argument("--user", help="user name or id")
            parser.add_argument("--project", help="project name or id")

    def _resolve(self, options):
        user = get_user(options["user"])
        role = get_role(options["role"])
        project = get_project(options["project"]) if options["project"] else None
        return user, role, project

    def action_add(self, options):
        user, role, project = self._resolve(options)
        if role.name == MANAGED_ROLE:
            raise CommandError(
                f"The {MANAGED_ROLE} role comes with the project (project create --manager); "
                "it cannot be added by hand."
            )
        if RoleAssignment.objects.filter(user=user, role=role, project=project).exists():
            self.stdout.write(f"{user.username} already has role {role.name} {scope_name(project)}")
            return
        accounts.assign_role(user, role, project)
        self.stdout.write(f"Added role {role.name} to {user.username} {scope_name(project)}")

    def action_remove(self, options):
        user, role, project = self._resolve(options)
        if role.name == MANAGED_ROLE:
            raise CommandError(f"The {MANAGED_ROLE} role comes with the project; it cannot be removed by hand.")
        if not accounts.remove_role(user, role, project):
            raise CommandError(f"User {user.username!r} does not have role {role.name!r} {scope_name(project)}.")
        self.stdout.write(f"Removed role {role.name} from {user.username} {scope_name(project)}")

    def action_has(self, options):
        user, role, project = self._resolve(options)
        self.stdout.write(str(RoleAssignment.objects.filter(user=user, role=role, project=project).exists()))

    def action_list(self, options):
        assignments = RoleAssignment.objects.select_related("user", "role", "project")
        if options["user"]:
            assignments = assignments.filter(user=get_user(options["user"]))
        if options["project"]:
            assignments = assignments.filter(project=get_project(options["project"]))
        rows = [
            [a.user.username, a.role.name, a.project.name if a.project_id else "(global)"]
            for a in assignments.order_by("user__username", F("project__name").asc(nulls_first=True), "role__name")
        ]
        self.table(["user", "role", "project"], rows)

    def action_roles(self, options):
        accounts.ensure_default_roles()
        from identity.models import Role

        self.table(["role", "description"], [[r.name, r.description] for r in Role.objects.order_by("name")])
