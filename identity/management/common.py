"""Lookups shared by the identity operator commands: names or ids in, objects or CommandError out."""
import shlex

from django.core.management.base import CommandError
from django.db.models import Q

from identity.services import accounts
from identity.services.context import ADMIN_ROLES
from identity.models import Ec2Credential, Project, Role, RoleAssignment, User


def get_project(name_or_id: str, deleted: bool = False) -> Project:
    """A live project by name or id; with `deleted`, also a deleted one (live first; a deleted
    one's name may have been taken again, its id is unique)."""
    project = Project.objects.filter(Q(name=name_or_id) | Q(id=name_or_id)).first()
    if project is None and deleted:
        project = (Project.all_objects.filter(Q(name=name_or_id) | Q(id=name_or_id))
                   .order_by("-deleted_at").first())
    if project is None:
        raise CommandError(f"Project {name_or_id!r} not found.")
    return project


def get_user(name_or_id: str) -> User:
    user = User.objects.filter(Q(username=name_or_id) | Q(id=name_or_id)).first()
    if user is None:
        raise CommandError(f"User {name_or_id!r} not found.")
    return user


def get_role(name: str) -> Role:
    """A role by name; an unknown one is an error that lists the valid names."""
    accounts.ensure_default_roles()
    role = Role.objects.filter(Q(name=name) | Q(id=name)).first()
    if role is None:
        valid = ", ".join(Role.objects.order_by("name").values_list("name", flat=True))
        raise CommandError(f"Unknown role {name!r}; valid roles: {valid}.")
    return role


def can_use_project(user: User, project: Project) -> bool:
    """Whether `user` holds a role on `project`, manages it, or is a global admin."""
    if project.manager_id == user.id:
        return True
    scope = Q(project=project) | Q(project__isnull=True, role__name__in=ADMIN_ROLES)
    return RoleAssignment.objects.filter(scope, user=user).exists()


def ec2_credential(user: User, project: Project, create: bool = True) -> tuple[Ec2Credential | None, bool]:
    """The user's (oldest) EC2 credential in `project`; made when missing and `create`.

    Returns (credential, created). A user with no role in the project gets no credential there.
    """
    credential = Ec2Credential.objects.filter(user=user, project=project).order_by("created_at").first()
    if credential is not None or not create:
        return credential, False
    if not can_use_project(user, project):
        raise CommandError(f"User {user.username!r} has no role in project {project.name!r}.")
    return accounts.create_ec2_credential(user, project), True


def ec2_exports(credential: Ec2Credential) -> list[str]:
    """The seeds' `user create`/`user exports` output lines."""
    return [
        f"export EC2_ACCESS_KEY={shlex.quote(credential.access)}",
        f"export EC2_SECRET_KEY={shlex.quote(credential.secret)}",
    ]
