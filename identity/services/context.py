"""Who is asking: the user, the project the token is scoped to, and the effective roles."""
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from identity.models import Project, Token, User

from django.db.models import Q


ADMIN_ROLES = frozenset({"admin", "cloudadmin"})


@dataclass
class RequestContext:
    user: "User"
    project: "Project | None"  # None: unscoped
    roles: frozenset = field(default_factory=frozenset)
    token: "Token | None" = None
    request_id: str = "-"
    system: bool = False  # a system-scoped token (project is None)

    @property
    def user_id(self) -> str:
        return self.user.id

    @property
    def project_id(self) -> str | None:
        return self.project.id if self.project is not None else None

    @property
    def is_admin(self) -> bool:
        return bool(self.roles & ADMIN_ROLES)

    def has_role(self, *names: str) -> bool:
        return bool(self.roles & set(names))


def role_scope(user, project) -> Q:
    """Role rows `user` holds on `project`: direct grants, global grants (seeds: cloudadmin and
    itsec; Keystone's system role assignments) and grants to a group the user belongs to. With
    `project` None, only the global/system grants (what a system-scoped token carries)."""
    scope = Q(assignments__user=user, assignments__project__isnull=True)
    scope |= Q(group_assignments__project__isnull=True, group_assignments__domain_id="", group_assignments__group__users=user)
    if project is not None:
        scope |= Q(assignments__user=user, assignments__project=project)
        scope |= Q(group_assignments__project=project, group_assignments__group__users=user)
    return scope


def effective_roles(user, project, application_credential=None) -> frozenset:
    """Names of the roles on `project` (see role_scope); a token issued through an application
    credential keeps only the credential's roles the user still holds."""
    from identity.models import Role

    roles = Role.objects.filter(role_scope(user, project))
    if application_credential is not None:
        roles = roles.filter(pk__in=application_credential.roles.values("pk"))
    return frozenset(roles.values_list("name", flat=True).distinct())
