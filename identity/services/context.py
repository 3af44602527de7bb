"""Who is asking: the user, the project the token is scoped to, and the effective roles."""
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from identity.models import Project, Token, User

from django.db.models import Q

from identity.models import RoleAssignment

ADMIN_ROLES = frozenset({"admin", "cloudadmin"})


@dataclass
class RequestContext:
    user: "User"
    project: "Project | None"  # None: unscoped
    roles: frozenset = field(default_factory=frozenset)
    token: "Token | None" = None
    request_id: str = "-"

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


def effective_roles(user, project) -> frozenset:
    """Roles on `project` plus global roles (seeds: cloudadmin and itsec are global)."""
    scope = Q(project__isnull=True)
    if project is not None:
        scope |= Q(project=project)
    names = RoleAssignment.objects.filter(scope, user=user).values_list("role__name", flat=True)
    return frozenset(names)
