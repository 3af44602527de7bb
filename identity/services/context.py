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


MAX_PROJECT_TREE_DEPTH = 5  # Keystone's [DEFAULT] max_project_tree_depth


def ancestor_ids(project) -> list[str]:
    """The ids of `project`'s parents, nearest first (a top-level project has none)."""
    from identity.models import Project

    ids: list[str] = []
    parent_id = project.parent_id
    while parent_id and parent_id not in ids and len(ids) <= MAX_PROJECT_TREE_DEPTH:
        ids.append(parent_id)
        parent_id = Project.all_objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return ids


def role_scope(user, project) -> Q:
    """Role rows `user` holds on `project`: direct grants, global grants (seeds: cloudadmin and
    itsec; Keystone's system role assignments), grants to a group the user belongs to, and
    OS-INHERIT grants on one of the project's parents or on its domain. With `project` None,
    only the global/system grants (what a system-scoped token carries)."""
    scope = Q(assignments__user=user, assignments__project__isnull=True)
    scope |= Q(group_assignments__project__isnull=True, group_assignments__domain_id="", group_assignments__group__users=user)
    if project is not None:
        scope |= Q(assignments__user=user, assignments__project=project)
        scope |= Q(group_assignments__project=project, group_assignments__group__users=user)
        inherited_from = Q(inherited_assignments__domain_id=project.domain_id)
        ancestors = ancestor_ids(project)
        if ancestors:
            inherited_from |= Q(inherited_assignments__project_id__in=ancestors)
        scope |= inherited_from & (Q(inherited_assignments__user=user) | Q(inherited_assignments__group__users=user))
    return scope


def implied_closure(role_ids) -> set:
    """`role_ids` and every role they imply, transitively (Keystone's implied roles)."""
    from identity.models import RoleInference

    rules: dict[str, set] = {}
    for prior, implied in RoleInference.objects.values_list("prior_role_id", "implied_role_id"):
        rules.setdefault(prior, set()).add(implied)
    seen, todo = set(role_ids), list(role_ids)
    while todo:
        for implied in rules.get(todo.pop(), ()):
            if implied not in seen:
                seen.add(implied)
                todo.append(implied)
    return seen


def token_roles(user, project, application_credential=None):
    """The Role rows a token on `project` carries (see role_scope): the roles held and those they
    imply, less domain-specific roles; through an application credential, only the
    credential's roles the user still holds (and what they imply)."""
    from identity.models import Role

    held = set(Role.objects.filter(role_scope(user, project)).values_list("pk", flat=True))
    if application_credential is not None:
        held &= set(application_credential.roles.values_list("pk", flat=True))
    return Role.objects.filter(pk__in=implied_closure(held), domain_id__isnull=True)


def effective_roles(user, project, application_credential=None) -> frozenset:
    """Names of the roles a token on `project` carries (see token_roles)."""
    return frozenset(token_roles(user, project, application_credential).values_list("name", flat=True))
