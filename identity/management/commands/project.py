"""nova-manage's `project` category: create, list, delete, quota, environment, scrub, zipfile.

    ./manage.py project create john_project --manager john
    ./manage.py project quota john_project instances 20
    ./manage.py project environment john_project john          # writes ./novarc
    ./manage.py project scrub <project id> --wait 120          # what a deleted project left
    ./manage.py project zipfile john_project john              # writes ./nova.zip
"""
import os

from django.core.management.base import CommandError
from django.db.models import Count, Q

from cloudproj.cli import CategoryCommand
from compute.services import project_scrub
from identity.services import accounts, quotas
from identity.services import credentials_bundle
from identity.services.endpoints import public_base_url
from identity.management.common import ec2_credential, get_project, get_user
from identity.models import Project

UNLIMITED = "unlimited"


def parse_limit(value: str) -> int:
    """A quota limit: a whole number >= 0, or -1 / `unlimited`."""
    if value.lower() == UNLIMITED:
        return -1
    try:
        limit = int(value)
    except ValueError:
        raise CommandError(f"Quota value must be a whole number or {UNLIMITED!r}, not {value!r}.") from None
    if limit < -1:
        raise CommandError(f"Quota value must be >= -1 (-1 means {UNLIMITED}), not {limit}.")
    return limit


def show_limit(value) -> str:
    return UNLIMITED if value is None or value == -1 else str(value)


def quota_errors():
    """The exceptions identity.services.quotas raises for a bad request (unknown resource, bad value)."""
    extra = tuple(
        obj
        for obj in vars(quotas).values()
        if isinstance(obj, type) and issubclass(obj, Exception) and obj.__module__ == quotas.__name__
    )
    return (ValueError, KeyError, LookupError) + extra


def write_private(filename: str, content: bytes) -> None:
    """Write `content` readable by its owner only (it holds the EC2 secret key)."""
    try:
        fd = os.open(filename, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(filename, 0o600)
    except OSError as exc:
        raise CommandError(f"Cannot write {filename}: {exc.strerror}") from None


class Command(CategoryCommand):
    help = "Manage projects (tenants): create, list, delete, quotas, credentials files."
    actions = {
        "create": "Create a project, optionally with a manager (who gets the projectmanager role).",
        "list": "List projects.",
        "delete": "Delete a project and everything identity holds for it (roles, tokens, EC2 keys); what it "
                  "still owns (servers, volumes...) stays until `project scrub`.",
        "quota": "Show a project's quotas, or set one: quota NAME KEY VALUE (VALUE may be 'unlimited').",
        "environment": "Write an openrc-style credentials file (default ./novarc) for a user in a project.",
        "scrub": "Delete what a (deleted) project still owns: servers, floating IPs, volumes and snapshots, "
                 "images, server and security groups; its networks back to the pool. Quotas are given back.",
        "zipfile": "Write a zip (default ./nova.zip) of a user's credentials in a project: novarc, clouds.yaml and "
                   "the aws CLI's config (EC2 credentials created if the user has none there).",
    }

    def add_action_arguments(self, name, parser):
        if name == "create":
            parser.add_argument("name", help="project name")
            parser.add_argument("manager_pos", nargs="?", metavar="MANAGER", help="manager user (seeds' form)")
            parser.add_argument("--manager", help="user who manages the project")
            parser.add_argument("--description", "--desc", default="", help="free text")
        elif name == "list":
            parser.add_argument("--user", help="only projects where this user holds a role")
        elif name == "delete":
            parser.add_argument("name", help="project name or id")
        elif name == "quota":
            parser.add_argument("name", help="project name or id")
            parser.add_argument("key", nargs="?", help="quota resource, e.g. instances, cores, ram")
            parser.add_argument("value", nargs="?", help=f"new limit (-1 or {UNLIMITED!r}: no limit)")
            parser.add_argument("--force", action="store_true", help="allow a limit below what is in use")
        elif name == "scrub":
            parser.add_argument("name", help="project id (a deleted project's too) or name")
            parser.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                                help="repeat until nothing is left or SECONDS passed (servers and volumes "
                                     "are deleted by their hosts); default: one pass")
            parser.add_argument("--list", action="store_true", help="only show what the project owns")
        elif name == "environment":
            parser.add_argument("project", help="project name or id")
            parser.add_argument("user", help="user name or id")
            parser.add_argument("filename", nargs="?", default="novarc", help="output file, '-' for stdout")
        elif name == "zipfile":
            parser.add_argument("project", help="project name or id")
            parser.add_argument("user", help="user name or id")
            parser.add_argument("filename", nargs="?", default="nova.zip", help="output file")

    def action_create(self, options):
        if options["manager_pos"] and options["manager"] and options["manager_pos"] != options["manager"]:
            raise CommandError("Give the manager once (either MANAGER or --manager).")
        manager_name = options["manager"] or options["manager_pos"]
        manager = get_user(manager_name) if manager_name else None
        name = options["name"].strip()
        if not name:
            raise CommandError("Project name may not be empty.")
        try:
            project = accounts.create_project(name, description=options["description"], manager=manager)
        except accounts.Duplicate as exc:
            raise CommandError(str(exc)) from None
        suffix = f" managed by {manager.username}" if manager else ""
        self.stdout.write(f"Created project {project.name} ({project.id}){suffix}")

    def action_list(self, options):
        projects = Project.objects.select_related("manager").annotate(
            members=Count("role_assignments__user", distinct=True)
        )
        if options["user"]:
            user = get_user(options["user"])
            projects = projects.filter(Q(role_assignments__user=user) | Q(manager=user)).distinct()
        rows = [
            [p.name, p.id, p.manager.username if p.manager else "-", p.members, "yes" if p.enabled else "no",
             p.description]
            for p in projects.order_by("name")
        ]
        self.table(["name", "id", "manager", "members", "enabled", "description"], rows)

    def action_delete(self, options):
        project = get_project(options["name"])
        accounts.delete_project(project)
        self.stdout.write(f"Deleted project {project.name}")

    def action_scrub(self, options):
        project = get_project(options["name"], deleted=True)
        label = f"{project.name} ({project.id}{', deleted' if project.is_deleted else ''})"
        if options["list"]:
            held = project_scrub.holdings(project.id).as_dict()
            self.stdout.write(f"Project {label} owns:")
            self.table(["resource", "count"], [[kind, count] for kind, count in held.items()])
            return
        if options["wait"] < 0:
            raise CommandError("--wait must be >= 0 seconds.")
        report = project_scrub.scrub(project.id, wait=options["wait"])
        self.stdout.write(f"Scrubbed project {label}:")
        for kind in project_scrub.KINDS:
            done = report.get(kind) or []
            if done:
                self.stdout.write(f"  {kind} deleted: {len(done)} ({', '.join(done)})")
        for refusal in report.get("refused") or []:
            self.stdout.write(f"  not yet: {refusal}")
        left = {kind: count for kind, count in report["pending"].items() if count}
        if left:
            self.stdout.write("  still owned: " + ", ".join(f"{kind} {count}" for kind, count in left.items())
                              + " (deletions finish on their hosts: run again, or pass --wait)")
        else:
            self.stdout.write("  nothing left")

    def action_quota(self, options):
        project = get_project(options["name"])
        key, value = options["key"], options["value"]
        set_kwargs = {"force": True} if options["force"] else {}
        if key is not None:
            if value is None:
                raise CommandError("Give a value to set: project quota NAME KEY VALUE.")
            limit = parse_limit(value)
            try:
                quotas.set_quota(project, key, limit, **set_kwargs)
            except quota_errors() as exc:
                message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
                raise CommandError(f"Cannot set quota {key!r}: {message}") from None
        self._show_quotas(quotas.get_quotas(project))

    def _show_quotas(self, values: dict):
        detailed = any(isinstance(v, dict) for v in values.values())
        if detailed:
            rows = [
                [key, show_limit(v.get("limit")), v.get("in_use", ""), v.get("reserved", "")]
                if isinstance(v, dict) else [key, show_limit(v), "", ""]
                for key, v in sorted(values.items())
            ]
            self.table(["resource", "limit", "in_use", "reserved"], rows)
        else:
            self.table(["resource", "limit"], [[key, show_limit(v)] for key, v in sorted(values.items())])

    def action_environment(self, options):
        project = get_project(options["project"])
        user = get_user(options["user"])
        credential, created = ec2_credential(user, project, create=True)
        content = credentials_bundle.render_rc(project, user, credential, public_base_url())
        filename = options["filename"]
        if filename == "-":
            self.stdout.write(content, ending="")
            return
        write_private(filename, content.encode())
        note = " (new EC2 credentials created)" if created else ""
        self.stdout.write(f"Wrote {filename} for {user.username} in {project.name}{note}")

    def action_zipfile(self, options):
        project = get_project(options["project"])
        user = get_user(options["user"])
        credential, created = ec2_credential(user, project, create=True)
        write_private(options["filename"], credentials_bundle.render_zip(project, user, credential, public_base_url()))
        note = " (new EC2 credentials created)" if created else ""
        self.stdout.write(f"Wrote {options['filename']} for {user.username} in {project.name}{note}")
