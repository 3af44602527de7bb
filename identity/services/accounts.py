"""Identity operations in plain Python, shared by the API, the CLI and the bootstrap."""
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from identity.models import (
    ApplicationCredential,
    Credential,
    Domain,
    Ec2Credential,
    Group,
    GroupRoleAssignment,
    InheritedRoleAssignment,
    Limit,
    Project,
    Role,
    RoleAssignment,
    Token,
    User,
)
from identity.services import role_rules
from identity.services.context import MAX_PROJECT_TREE_DEPTH, ancestor_ids, token_roles
from identity.services.tokens import revoke_user_tokens

# Keystone's roles plus the seeds' (see identity.services.policy for what each may do).
DEFAULT_ROLES = {
    "admin": "Full access to every project (Keystone).",
    "member": "Uses the resources of its project (Keystone).",
    "reader": "Read-only access to its project (Keystone).",
    "manager": "Manages its project's or domain's users and role assignments (Keystone).",
    "service": "For service users talking to other services (Keystone).",
    "cloudadmin": "Complete system access (seeds' superuser role).",
    "itsec": "May quarantine instances in any project (seeds).",
    "sysadmin": "Manages the project's users and images, launches and terminates instances (seeds).",
    "netadmin": "Allocates public IPs and changes firewall rules (seeds).",
    "developer": "General purpose role assigned to users by default (seeds).",
    "projectmanager": "The project's manager; may do anything a sysadmin can (seeds).",
}


class IdentityError(Exception):
    """A request that cannot be carried out (duplicate name, unknown reference)."""


class Duplicate(IdentityError):
    pass


def ensure_default_roles() -> list[Role]:
    roles = []
    for name, description in DEFAULT_ROLES.items():
        role, _ = Role.objects.get_or_create(name=name, defaults={"description": description})
        roles.append(role)
    return roles


TAG_MAX_LENGTH = 255
TAGS_PER_PROJECT = 80


class InvalidTags(ValueError):
    pass


def checked_tags(tags) -> list[str]:
    """Keystone's rules for project tags: strings of 1..255 characters without '/' or ',',
    at most 80 per project; duplicates are dropped (order kept)."""
    if not isinstance(tags, list):
        raise InvalidTags("Invalid input for field 'tags': a list is required.")
    unique: list[str] = []
    for tag in tags:
        if not isinstance(tag, str) or not tag or len(tag) > TAG_MAX_LENGTH or "/" in tag or "," in tag:
            raise InvalidTags(
                f"Invalid input for field 'tags': {tag!r} is not a tag (1-{TAG_MAX_LENGTH} characters, no '/' or ',')."
            )
        if tag not in unique:
            unique.append(tag)
    if len(unique) > TAGS_PER_PROJECT:
        raise InvalidTags(f"Invalid input for field 'tags': at most {TAGS_PER_PROJECT} tags per project.")
    return unique


def create_project(
    name: str,
    description: str = "",
    enabled: bool = True,
    manager: User | None = None,
    domain_id: str = "default",
    tags: list[str] | None = None,
    parent: Project | None = None,
) -> Project:
    """Create a project; `parent` (of the same domain, at most MAX_PROJECT_TREE_DEPTH levels
    deep) makes it a child in Keystone's hierarchy (see check_parent)."""
    if parent is not None:
        check_parent(parent, domain_id)
    try:
        with transaction.atomic():
            project = Project.objects.create(
                name=name, description=description, enabled=enabled, manager=manager, domain_id=domain_id,
                tags=list(tags or []), parent=parent,
            )
            if manager is not None:
                pm, _ = Role.objects.get_or_create(
                    name="projectmanager", defaults={"description": DEFAULT_ROLES["projectmanager"]}
                )
                RoleAssignment.objects.get_or_create(user=manager, role=pm, project=project)
    except IntegrityError:
        raise Duplicate(f"Conflict occurred attempting to store project - Duplicate entry {name!r}.") from None
    return project


class HierarchyError(IdentityError):
    """A project hierarchy Keystone refuses (403: depth, a project with children deleted)."""


def check_parent(parent: Project, domain_id: str) -> None:
    if parent.domain_id != domain_id:
        raise IdentityError("Cannot create project, the parent is in a different domain.")
    if len(ancestor_ids(parent)) + 1 >= MAX_PROJECT_TREE_DEPTH:
        raise HierarchyError(f"Max hierarchy depth reached for {parent.id} branch.")


def create_user(
    name: str,
    password: str | None,
    default_project: Project | None = None,
    email: str = "",
    enabled: bool = True,
    description: str = "",
    ec2_access: str | None = None,
    ec2_secret: str | None = None,
    domain_id: str = "default",
    extra: dict | None = None,
) -> User:
    """Create a user; with a default project it also gets EC2 credentials there (as in the seeds)."""
    try:
        with transaction.atomic():
            user = User(
                username=name,
                email=email or "",
                is_active=enabled,
                default_project=default_project,
                description=description,
                domain_id=domain_id,
                extra=dict(extra or {}),
            )
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
            if default_project is not None:
                create_ec2_credential(user, default_project, ec2_access, ec2_secret)
    except IntegrityError:
        raise Duplicate(f"Conflict occurred attempting to store user - Duplicate entry {name!r}.") from None
    return user


def create_user_with_role(name: str, password: str | None, default_project: Project | None = None,
                          role: Role | None = None, **fields) -> User:
    """A user and, when given, its first role on its default project: both or neither."""
    with transaction.atomic():
        user = create_user(name, password, default_project=default_project, **fields)
        if role is not None and default_project is not None:
            assign_role(user, role, default_project)
    return user


def create_ec2_credential(user: User, project: Project, access: str | None = None, secret: str | None = None):
    fields = {"user": user, "project": project}
    if access:
        fields["access"] = access
    if secret:
        fields["secret"] = secret
    return Ec2Credential.objects.create(**fields)


def assign_role(user: User, role: Role, project: Project | None = None) -> RoleAssignment:
    assignment, _ = RoleAssignment.objects.get_or_create(user=user, role=role, project=project)
    return assignment


def remove_role(user: User, role: Role, project: Project | None = None) -> bool:
    deleted, _ = RoleAssignment.objects.filter(user=user, role=role, project=project).delete()
    return deleted > 0


def check_password(user: User, password: str) -> bool:
    return bool(password) and user.is_active and user.check_password(password)


# --- used by the Keystone-compatible API (identity.api) ---------------------------------


def roles_on_project(user: User, project: Project | None, application_credential=None) -> list[Role]:
    """The roles `user` holds on `project`, its global roles and its groups' roles there (what a
    token carries); through an application credential, only the credential's roles."""
    return list(token_roles(user, project, application_credential).order_by("name"))


def projects_of_user(user: User):
    """Enabled projects (of enabled domains) on which `user` or one of its groups holds a role."""
    direct = Q(role_assignments__user=user) | Q(group_role_assignments__group__users=user)
    inherited: set[str] = set()  # OS-INHERIT grants reach the projects below a project or in a domain
    for row in InheritedRoleAssignment.objects.filter(Q(user=user) | Q(group__users=user)).distinct():
        inherited.update(project.pk for project in role_rules.inherited_targets(row))
    if inherited:
        direct |= Q(pk__in=inherited)
    disabled_domains = Domain.objects.filter(enabled=False).values("pk")
    return (
        Project.objects.filter(direct, enabled=True)
        .exclude(domain_id__in=disabled_domains)
        .distinct()
        .order_by("name")
    )


def domains_of_user(user: User):
    """The enabled domains the user holds a role on, directly or through a group (Keystone's
    GET /v3/auth/domains: the domains the user may ask a scope on)."""
    group_domains = GroupRoleAssignment.objects.filter(group__users=user, project__isnull=True).exclude(
        domain_id="").values_list("domain_id", flat=True)
    return Domain.objects.filter(enabled=True).filter(
        Q(user_role_assignments__user=user) | Q(id__in=list(group_domains))).distinct().order_by("name")


def update_project(project: Project, **changes) -> Project:
    for field, value in changes.items():
        setattr(project, field, value)
    try:
        with transaction.atomic():
            project.save()
    except IntegrityError:
        raise Duplicate(
            f"Conflict occurred attempting to store project - Duplicate entry {project.name!r}."
        ) from None
    return project


def update_user(user: User, password: str | None = None, **changes) -> User:
    """Change a user; disabling it or setting a password revokes its tokens."""
    renames = {"name": "username", "enabled": "is_active"}
    for field, value in changes.items():
        setattr(user, renames.get(field, field), value)
    if password is not None:
        user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Duplicate(f"Conflict occurred attempting to store user - Duplicate entry {user.username!r}.") from None
    if password is not None or not user.is_active:
        revoke_user_tokens(user)
    return user


def delete_user(user: User) -> None:
    revoke_user_tokens(user)
    user.delete()


def save_role(role: Role, **changes) -> Role:
    for field, value in changes.items():
        setattr(role, field, value)
    try:
        with transaction.atomic():
            role.save()
    except IntegrityError:
        raise Duplicate(f"Conflict occurred attempting to store role - Duplicate entry {role.name!r}.") from None
    return role


def save_domain(domain: Domain, **changes) -> Domain:
    """Create or change a domain; disabling one revokes the tokens of its users and projects."""
    for field, value in changes.items():
        setattr(domain, field, value)
    try:
        with transaction.atomic():
            domain.save()
    except IntegrityError:
        raise Duplicate(f"Conflict occurred attempting to store domain - Duplicate entry {domain.name!r}.") from None
    if not domain.enabled:
        Token.objects.filter(Q(user__domain_id=domain.id) | Q(project__domain_id=domain.id)).update(revoked=True)
    return domain


def delete_project(project: Project) -> bool:
    """Delete a project as Keystone does: what identity holds for it goes (role assignments,
    tokens, EC2 keys, application credentials, credentials, limits; users' default project),
    and the row stays as a tombstone (deleted_at set, disabled) for the servers, volumes,
    floating IPs, images, security groups and quota usage it still owns: they keep working
    and an admin deletes them later (`manage.py project scrub`). False if already deleted."""
    with transaction.atomic():
        row = Project.all_objects.select_for_update().filter(pk=project.pk).first()
        if row is None or row.deleted_at is not None:
            return False
        if Project.objects.filter(parent=row).exists():
            raise HierarchyError(f"Cannot delete the project {row.id} since it is not a leaf in the hierarchy.")
        InheritedRoleAssignment.objects.filter(project=row).delete()
        RoleAssignment.objects.filter(project=row).delete()
        GroupRoleAssignment.objects.filter(project=row).delete()
        Token.objects.filter(project=row).update(revoked=True)
        Ec2Credential.objects.filter(project=row).delete()
        ApplicationCredential.objects.filter(project=row).delete()
        Credential.objects.filter(project=row).delete()
        Limit.objects.filter(project=row).delete()
        User.objects.filter(default_project=row).update(default_project=None)
        row.enabled = False
        row.soft_delete(timezone.now(), update_fields=("enabled",))
    project.deleted_at, project.enabled = row.deleted_at, row.enabled
    return True


def delete_domain(domain: Domain) -> None:
    """Delete a domain with its projects (tombstones: see delete_project), users and groups
    (the caller makes it atomic), leaves of a project hierarchy first, and its roles."""
    projects = list(Project.objects.filter(domain_id=domain.id))
    for project in sorted(projects, key=lambda p: -len(ancestor_ids(p))):
        delete_project(project)
    for user in User.objects.filter(domain_id=domain.id):
        delete_user(user)
    Group.objects.filter(domain_id=domain.id).delete()
    GroupRoleAssignment.objects.filter(domain_id=domain.id, project__isnull=True).delete()
    Role.objects.filter(domain_id=domain.id).delete()
    domain.delete()


# --- groups --------------------------------------------------------------------------------


def save_group(group: Group, **changes) -> Group:
    for field, value in changes.items():
        setattr(group, field, value)
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise Duplicate(f"Conflict occurred attempting to store group - Duplicate entry {group.name!r}.") from None
    return group


def add_user_to_group(group: Group, user: User) -> None:
    group.users.add(user)


def remove_user_from_group(group: Group, user: User) -> bool:
    """Remove the membership; the user's tokens are revoked (their roles may have shrunk)."""
    if not group.users.filter(pk=user.pk).exists():
        return False
    group.users.remove(user)
    revoke_user_tokens(user)
    return True


def assign_group_role(group: Group, role: Role, project: Project | None = None, domain_id: str = "") -> None:
    GroupRoleAssignment.objects.get_or_create(
        group=group, role=role, project=project, domain_id="" if project is not None else domain_id
    )


def remove_group_role(group: Group, role: Role, project: Project | None = None, domain_id: str = "") -> bool:
    assignments = GroupRoleAssignment.objects.filter(group=group, role=role, project=project)
    if project is None:
        assignments = assignments.filter(domain_id=domain_id)
    deleted, _ = assignments.delete()
    return deleted > 0


# --- application credentials ---------------------------------------------------------------


def create_application_credential(
    user: User,
    project: Project,
    name: str,
    roles: list[Role],
    secret: str | None = None,
    description: str = "",
    expires_at=None,
    unrestricted: bool = False,
):
    """Store a credential with a hash of its secret; returns (credential, secret shown once)."""
    import secrets as _secrets

    from django.contrib.auth.hashers import make_password

    from identity.models import ApplicationCredential

    secret = secret or _secrets.token_urlsafe(48)
    try:
        with transaction.atomic():
            credential = ApplicationCredential.objects.create(
                user=user,
                project=project,
                name=name,
                description=description,
                secret_hash=make_password(secret),
                expires_at=expires_at,
                unrestricted=unrestricted,
            )
            credential.roles.set(roles)
    except IntegrityError:
        raise Duplicate(
            f"Conflict occurred attempting to store application_credential - Duplicate entry {name!r}."
        ) from None
    return credential, secret
