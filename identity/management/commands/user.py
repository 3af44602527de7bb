"""nova-manage's `user` category: create, admin, list, delete, exports.

    ./manage.py user create john --project john_project     # prints the EC2 exports
    eval "$(./manage.py user exports john --project john_project)"

`create` prints shell lines only (`export ...`; a generated password as a `#` comment), so its
output can be `eval`ed as the seeds' could.
"""
import secrets

from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError

from cloudproj.cli import CategoryCommand
from identity.services import accounts
from identity.management.common import ec2_credential, ec2_exports, get_project, get_role, get_user
from identity.models import Ec2Credential, RoleAssignment, User


class Command(CategoryCommand):
    help = "Manage users: create (prints EC2 exports), list, delete, exports."
    actions = {
        "create": "Create a user; with a project, prints the EC2 exports of its credentials there.",
        "admin": "Create an admin user (same as create --admin).",
        "list": "List users.",
        "delete": "Delete a user (its role assignments, tokens and EC2 credentials go with it).",
        "exports": "Print the EC2 exports of a user's credentials in a project.",
    }

    def add_action_arguments(self, name, parser):
        if name in ("create", "admin"):
            parser.add_argument("name", help="user name")
            parser.add_argument("access_pos", nargs="?", metavar="ACCESS", help="EC2 access key (seeds' form)")
            parser.add_argument("secret_pos", nargs="?", metavar="SECRET", help="EC2 secret key (seeds' form)")
            parser.add_argument("--password", help="password (default: a random one, printed once)")
            parser.add_argument("--project", help="default project; the user gets EC2 credentials and a role there")
            parser.add_argument("--role", default="member", help="role on --project (default: member)")
            parser.add_argument("--email", default="", help="e-mail address")
            parser.add_argument("--access", help="EC2 access key (default: random)")
            parser.add_argument("--secret", help="EC2 secret key (default: random)")
            if name == "create":
                parser.add_argument(
                    "--admin", action="store_true",
                    help="grant the global admin role (and access to the /admin/ site)",
                )
        elif name == "list":
            pass
        elif name == "delete":
            parser.add_argument("name", help="user name or id")
        elif name == "exports":
            parser.add_argument("name", help="user name or id")
            parser.add_argument("--project", help="project (default: the user's default project)")

    @staticmethod
    def _one(options, key):
        positional, flag = options[f"{key}_pos"], options[key]
        if positional and flag and positional != flag:
            raise CommandError(f"Give the {key} key once (positional or --{key}).")
        return flag or positional

    def action_admin(self, options):
        options["admin"] = True
        return self.action_create(options)

    def action_create(self, options):
        name = options["name"].strip()
        if not name:
            raise CommandError("User name may not be empty.")
        access, secret = self._one(options, "access"), self._one(options, "secret")
        project = get_project(options["project"]) if options["project"] else None
        if project is None and (access or secret):
            raise CommandError("EC2 keys belong to a project: give --project.")
        if access and Ec2Credential.objects.filter(access=access).exists():
            raise CommandError(f"EC2 access key {access!r} is already in use.")
        role = get_role(options["role"]) if project is not None else None
        if role is not None and role.name == "projectmanager":
            raise CommandError("The projectmanager role comes with the project (project create --manager).")
        admin_role = get_role("admin") if options.get("admin") else None
        password = options["password"]
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        try:
            with transaction.atomic():
                user = accounts.create_user(
                    name, password, default_project=project, email=options["email"],
                    ec2_access=access, ec2_secret=secret,
                )
                if role is not None:
                    accounts.assign_role(user, role, project)
                if admin_role is not None:
                    accounts.assign_role(user, admin_role, None)
                    user.is_staff = user.is_superuser = True
                    user.save(update_fields=["is_staff", "is_superuser"])
        except accounts.Duplicate as exc:
            raise CommandError(str(exc)) from None
        if generated:
            self.stdout.write(f"# generated password for {user.username} (shown once): {password}")
        if project is None:
            self.stdout.write(f"# user {user.username} created with no project: no EC2 credentials yet")
            return
        credential, _ = ec2_credential(user, project, create=False)
        for line in ec2_exports(credential):
            self.stdout.write(line)

    def action_list(self, options):
        users = User.objects.select_related("default_project").order_by("username")
        global_roles: dict[str, list[str]] = {}
        for user_id, role_name in RoleAssignment.objects.filter(project__isnull=True).values_list(
            "user_id", "role__name"
        ):
            global_roles.setdefault(user_id, []).append(role_name)
        rows = [
            [
                u.username,
                u.id,
                u.default_project.name if u.default_project else "-",
                u.email or "-",
                "yes" if u.is_active else "no",
                ",".join(sorted(global_roles.get(u.id, []))) or "-",
            ]
            for u in users
        ]
        self.table(["name", "id", "default_project", "email", "enabled", "global_roles"], rows)

    def action_delete(self, options):
        user = get_user(options["name"])
        try:
            with transaction.atomic():
                user.delete()
        except (ProtectedError, RestrictedError):
            raise CommandError(f"User {user.username!r} still owns resources; delete them first.") from None
        self.stdout.write(f"Deleted user {user.username}")

    def action_exports(self, options):
        user = get_user(options["name"])
        if options["project"]:
            project = get_project(options["project"])
        elif user.default_project is not None:
            project = user.default_project
        else:
            raise CommandError(f"User {user.username!r} has no default project: give --project.")
        credential, created = ec2_credential(user, project, create=True)
        if created:
            self.stdout.write(f"# new EC2 credentials for {user.username} in {project.name}")
        for line in ec2_exports(credential):
            self.stdout.write(line)
