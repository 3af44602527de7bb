"""Keystone's implied roles (role inference rules) and OS-INHERIT grants, in plain Python.
What they grant is computed in identity.services.context (token_roles, role_scope)."""
from django.db import IntegrityError, transaction

from identity.models import Domain, Group, InheritedRoleAssignment, Project, Role, RoleInference, User

# Keystone's [assignment] prohibited_implied_role: no rule may imply these.
PROHIBITED_IMPLIED_ROLES = frozenset({"admin"})


class RuleRefused(Exception):
    """A rule Keystone forbids (403)."""


def create_inference(prior: Role, implied: Role) -> RoleInference:
    """prior implies implied. A global role may not imply a domain-specific one, no role may
    imply itself or a prohibited role, and no rule may close a cycle."""
    if prior.pk == implied.pk:
        raise RuleRefused("A role may not imply itself.")
    if implied.name in PROHIBITED_IMPLIED_ROLES:
        raise RuleRefused(f"{implied.name} may not be implied.")
    if prior.domain_id is None and implied.domain_id is not None:
        raise RuleRefused("A global role may not imply a domain-specific role.")
    from identity.services.context import implied_closure

    if prior.pk in implied_closure({implied.pk}):
        raise RuleRefused("The rule would make the role hierarchy a cycle.")
    try:
        with transaction.atomic():
            rule, _ = RoleInference.objects.get_or_create(prior_role=prior, implied_role=implied)
    except IntegrityError:  # a concurrent create
        rule = RoleInference.objects.get(prior_role=prior, implied_role=implied)
    return rule


def inherited_rows(actor: User | Group, target: Project | Domain, role: Role | None = None):
    """The OS-INHERIT grants of `actor` on `target` (of `role` only, when given)."""
    actor_key = "user" if isinstance(actor, User) else "group"
    target_key = "project" if isinstance(target, Project) else "domain"
    rows = InheritedRoleAssignment.objects.filter(**{actor_key: actor, target_key: target})
    return rows.filter(role=role) if role is not None else rows


def grant_inherited(actor: User | Group, target: Project | Domain, role: Role) -> None:
    if inherited_rows(actor, target, role).exists():
        return
    actor_key = "user" if isinstance(actor, User) else "group"
    target_key = "project" if isinstance(target, Project) else "domain"
    try:
        with transaction.atomic():
            InheritedRoleAssignment.objects.create(role=role, **{actor_key: actor, target_key: target})
    except IntegrityError:  # granted concurrently
        pass


def subtree(project: Project) -> list[Project]:
    """The live projects below `project` (not itself), parents before children."""
    found, level = [], [project.pk]
    while level:
        children = list(Project.objects.filter(parent_id__in=level).order_by("name"))
        found += children
        level = [c.pk for c in children]
    return found


def inherited_targets(row: InheritedRoleAssignment) -> list[Project]:
    """The projects an OS-INHERIT grant applies to."""
    if row.project_id is not None:
        return subtree(row.project)
    return list(Project.objects.filter(domain_id=row.domain_id).order_by("name"))
