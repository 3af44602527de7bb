"""Identity: projects, users, roles, role assignments, tokens, EC2 credentials, quotas.

Ids are 32-hex strings, as Keystone's are. Domains are rows (`default` is seeded); user and
project names stay unique cloud-wide (a stricter rule than Keystone's per-domain one).
The service catalog (regions, services, endpoints) is data too, seeded from
identity.services.catalog.SERVICES after every migrate.
"""
import hashlib
import secrets
import uuid

from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from cloudproj.soft_delete import SoftDeleteModel


def new_id() -> str:
    return uuid.uuid4().hex


NAME_VALIDATOR = RegexValidator(
    r"^[^\x00-\x1f\x7f]+$", "Names may not contain control characters."
)


class Project(SoftDeleteModel):
    """A project (tenant). Deleting one keeps a tombstone (`deleted_at` set; hidden from
    `objects`, Keystone's API and every listing) for what it still owns: its servers,
    volumes, floating IPs and images stay, as Nova keeps them when Keystone deletes a
    project, with their quota usage, until an admin deletes them (API, dashboard,
    `manage.py project scrub`). A live project may take a deleted one's name."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    name = models.CharField(max_length=255, validators=[NAME_VALIDATOR])
    description = models.TextField(blank=True, default="")
    enabled = models.BooleanField(default=True)
    domain_id = models.CharField(max_length=64, default="default")
    # Keystone's project hierarchy: null for a top-level project (its parent is the domain).
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # The seeds' "project manager": the user who owns the project.
    manager = models.ForeignKey(
        "identity.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_projects"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Keystone's project tags (strings, unique, see identity.services.accounts.checked_tags).
    tags = models.JSONField(default=list, blank=True)

    class Meta(SoftDeleteModel.Meta):
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(deleted_at__isnull=True), name="unique_live_project_name"
            ),
        ]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """Django's auth user with a Keystone-style id and a default project."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    # Keystone allows 255 characters (Django's default is 150).
    username = models.CharField(max_length=255, unique=True, validators=[NAME_VALIDATOR])
    default_project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="default_users"
    )
    domain_id = models.CharField(max_length=64, default="default")
    description = models.TextField(blank=True, default="")
    # Keystone keeps a user's other attributes (e.g. `project_id`) and shows them back
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["username"]

    @property
    def enabled(self) -> bool:
        return self.is_active


class Role(models.Model):
    """A role. `domain_id` set: Keystone's domain-specific role, which never appears in a token
    or an effective assignment itself, only the global roles it implies do. Names stay unique
    cloud-wide (stricter than Keystone's per-domain rule)."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    name = models.CharField(max_length=64, unique=True, validators=[NAME_VALIDATOR])
    description = models.TextField(blank=True, default="")
    domain_id = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class RoleAssignment(models.Model):
    """A role held by a user on one project, or globally when `project` is null (Keystone's
    system role assignment: `PUT /v3/system/users/{u}/roles/{r}`)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="assignments")
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="role_assignments"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "project"], name="unique_project_role"),
            models.UniqueConstraint(
                fields=["user", "role"], condition=models.Q(project__isnull=True), name="unique_global_role"
            ),
        ]

    def __str__(self):
        scope = self.project.name if self.project_id else "(global)"
        return f"{self.user.username} {self.role.name} {scope}"


def new_audit_id() -> str:
    return secrets.token_urlsafe(16)


def hash_token(token_id: str) -> str:
    return hashlib.sha256(token_id.encode()).hexdigest()


class Token(models.Model):
    """An issued token. Only a hash of the token id is stored."""

    id_hash = models.CharField(primary_key=True, max_length=64)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens")
    methods = models.JSONField(default=list)
    audit_id = models.CharField(max_length=32, default=new_audit_id, db_index=True)
    # The first token of a chain (token-method re-scoping keeps the original audit id).
    audit_chain_id = models.CharField(max_length=32, blank=True, default="", db_index=True)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    revoked = models.BooleanField(default=False)
    # System-scoped (`scope: {"system": {"all": true}}`): roles from system grants, no project.
    system = models.BooleanField(default=False)
    # Issued through an application credential: its roles only (deleting it ends the token).
    application_credential = models.ForeignKey(
        "identity.ApplicationCredential", null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )

    def __str__(self):
        return f"token {self.audit_id} for {self.user_id}"

    @property
    def is_valid(self) -> bool:
        return not self.revoked and self.expires_at > timezone.now() and self.user.is_active


def ec2_credential_id(access: str) -> str:
    return hashlib.sha256(access.encode()).hexdigest()


class Ec2Credential(models.Model):
    """An EC2 access/secret pair of a user in a project (seeds: created with the user)."""

    access = models.CharField(primary_key=True, max_length=64, default=new_id)
    secret = models.CharField(max_length=64, default=new_id)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="ec2_credentials")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="ec2_credentials")
    created_at = models.DateTimeField(default=timezone.now)
    # Its id under /v3/credentials (type "ec2"): Keystone's sha256 of the access key when
    # created, kept when the access key is changed later.
    credential_id = models.CharField(max_length=64, db_index=True, blank=True, default="")

    def save(self, *args, **kwargs):
        if not self.credential_id:
            self.credential_id = ec2_credential_id(self.access)
        super().save(*args, **kwargs)

    def __str__(self):
        return f"{self.access} ({self.user.username}/{self.project.name})"


class Quota(models.Model):
    """A per-project override of a quota default (settings.QUOTA_DEFAULTS)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="quotas")
    resource = models.CharField(max_length=64)
    hard_limit = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "resource"], name="unique_quota")]

    def __str__(self):
        return f"{self.project.name}.{self.resource}={self.hard_limit}"


class UserQuota(models.Model):
    """A user's limit inside a project (Nova's per-user quotas, `?user_id=`): the user's servers,
    cores, RAM... may not exceed it, on top of the project's own limit."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="user_quotas")
    user_id = models.CharField(max_length=64)  # a plain id, as Nova stores it
    resource = models.CharField(max_length=64)
    hard_limit = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user_id", "resource"], name="unique_user_quota")]

    def __str__(self):
        return f"{self.project.name}/{self.user_id}.{self.resource}={self.hard_limit}"


class QuotaUsage(models.Model):
    """What a project holds (`in_use`) and has reserved for requests in flight."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="quota_usages")
    resource = models.CharField(max_length=64)
    in_use = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "resource"], name="unique_quota_usage")]

    def __str__(self):
        return f"{self.project.name}.{self.resource}: {self.in_use} (+{self.reserved})"


class Reservation(models.Model):
    """A pending change of usage: committed (moves into in_use) or rolled back."""

    uuid = models.UUIDField(default=uuid.uuid4, db_index=True)
    usage = models.ForeignKey(QuotaUsage, on_delete=models.CASCADE, related_name="reservations")
    delta = models.IntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"{self.uuid} {self.usage.resource} {self.delta:+d}"


class LoginFailure(models.Model):
    """Failed password logins of a user inside the current window (identity.services.lockout)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, primary_key=True, related_name="login_failure")
    failures = models.IntegerField(default=0)
    window_started_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.user_id}: {self.failures} failure(s), locked until {self.locked_until}"


class QuotaClass(models.Model):
    """An admin's override of a default limit (Nova's quota_classes; class "default" is the one
    every project without its own Quota row gets, on top of settings.QUOTA_DEFAULTS)."""

    class_name = models.CharField(max_length=255, default="default")
    resource = models.CharField(max_length=64)
    hard_limit = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["class_name", "resource"], name="unique_quota_class")]

    def __str__(self):
        return f"{self.class_name}.{self.resource}={self.hard_limit}"


class Domain(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    name = models.CharField(max_length=255, unique=True, validators=[NAME_VALIDATOR])
    description = models.TextField(blank=True, default="")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Group(models.Model):
    """A set of users; roles granted to it count for every member."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    name = models.CharField(max_length=255, validators=[NAME_VALIDATOR])
    description = models.TextField(blank=True, default="")
    domain_id = models.CharField(max_length=64, default="default")
    users = models.ManyToManyField(User, blank=True, related_name="identity_groups")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["domain_id", "name"], name="unique_group_name")]

    def __str__(self):
        return self.name


class GroupRoleAssignment(models.Model):
    """A role held by a group on a project, on a domain (`domain_id`, project null), or on the
    system (project null and `domain_id` empty)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="group_assignments")
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="group_role_assignments"
    )
    domain_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "role", "project"], name="unique_group_project_role"),
            models.UniqueConstraint(
                fields=["group", "role", "domain_id"],
                condition=models.Q(project__isnull=True),
                name="unique_group_domain_role",
            ),
        ]


class Region(models.Model):
    id = models.CharField(primary_key=True, max_length=255)
    description = models.TextField(blank=True, default="")
    parent_region = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="child_regions"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.id


class Service(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    type = models.CharField(max_length=255)
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, default="")
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["type", "name"]

    def __str__(self):
        return f"{self.type} ({self.name})"


class Endpoint(models.Model):
    """Where a service answers. `url` is either absolute (http://...) or a path starting with
    "/" that the catalog appends to the cloud's base URL (PUBLIC_ENDPOINT or the request's
    host); "{project_id}" / "$(project_id)s" / "$(tenant_id)s" are filled in per token."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="endpoints")
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="endpoints")
    interface = models.CharField(max_length=8)
    url = models.TextField()
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["service__type", "interface"]


class ApplicationCredential(models.Model):
    """A user's delegated secret for one project and a subset of its roles there.
    Only a hash of the secret is stored (Django's password hasher)."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    name = models.CharField(max_length=255, validators=[NAME_VALIDATOR])
    description = models.TextField(blank=True, default="")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="application_credentials")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="application_credentials")
    secret_hash = models.CharField(max_length=255)
    roles = models.ManyToManyField(Role, related_name="application_credentials")
    expires_at = models.DateTimeField(null=True, blank=True)
    unrestricted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="unique_app_cred_name")]

    def __str__(self):
        return f"{self.name} ({self.user_id})"


class RegisteredLimit(models.Model):
    """A default limit of a resource of a service (Keystone unified limits; data only, the
    quota engine in identity.services.quotas still enforces the cloud's quotas)."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="registered_limits")
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    resource_name = models.CharField(max_length=255)
    default_limit = models.IntegerField()
    description = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["resource_name"]


class Limit(models.Model):
    """A project's own limit of a registered resource (data only, see RegisteredLimit)."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="limits")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="limits")
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    resource_name = models.CharField(max_length=255)
    resource_limit = models.IntegerField()
    description = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["resource_name"]


class DomainRoleAssignment(models.Model):
    """A role held by a user on a domain (listed and checked; tokens are never domain-scoped
    here, so it grants nothing on the domain's projects). Kept apart from RoleAssignment,
    whose project-less rows are the cloud-wide roles."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="domain_role_assignments")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="domain_assignments")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="user_role_assignments")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role", "domain"], name="unique_domain_role")]


class Credential(models.Model):
    """A credential of another type than "ec2" under /v3/credentials (e.g. "totp", "cert"):
    an opaque blob kept for its user (ec2 credentials are Ec2Credential rows)."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="credentials")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="credentials")
    type = models.CharField(max_length=255)
    blob = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class RoleInference(models.Model):
    """Keystone's implied role: holding `prior_role` grants `implied_role` too (transitively)."""

    prior_role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="implies_rules")
    implied_role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="implied_by_rules")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["prior_role_id", "implied_role_id"]
        constraints = [
            models.UniqueConstraint(fields=["prior_role", "implied_role"], name="unique_role_inference"),
            models.CheckConstraint(condition=~models.Q(prior_role=models.F("implied_role")),
                                   name="role_inference_not_self"),
        ]


class InheritedRoleAssignment(models.Model):
    """Keystone's OS-INHERIT grant: a role of a user or a group on every project below a project
    (not the project itself), or on every project of a domain (not the domain itself)."""

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="inherited_roles")
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE, related_name="inherited_roles")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="inherited_assignments")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="inherited_role_assignments")
    domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="inherited_role_assignments")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(user__isnull=True) ^ models.Q(group__isnull=True),
                                   name="inherited_one_actor"),
            models.CheckConstraint(condition=models.Q(project__isnull=True) ^ models.Q(domain__isnull=True),
                                   name="inherited_one_target"),
            models.UniqueConstraint(fields=["user", "role", "project"], condition=models.Q(user__isnull=False,
                                    project__isnull=False), name="unique_inherited_user_project"),
            models.UniqueConstraint(fields=["user", "role", "domain"], condition=models.Q(user__isnull=False,
                                    domain__isnull=False), name="unique_inherited_user_domain"),
            models.UniqueConstraint(fields=["group", "role", "project"], condition=models.Q(group__isnull=False,
                                    project__isnull=False), name="unique_inherited_group_project"),
            models.UniqueConstraint(fields=["group", "role", "domain"], condition=models.Q(group__isnull=False,
                                    domain__isnull=False), name="unique_inherited_group_domain"),
        ]


class Policy(models.Model):
    """Keystone's /v3/policies: an opaque policy blob of a MIME type, stored for whoever reads
    it (Keystone enforces none of them either; this cloud's rules are identity.services.policy)."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    type = models.CharField(max_length=255)
    blob = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class EndpointGroup(models.Model):
    """Keystone's OS-EP-FILTER endpoint group: a named filter over the catalog's endpoints
    (`interface`, `service_id`, `region_id`). Stored and served; no project is associated with
    one here, so no token's catalog is narrowed by it."""

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False)
    name = models.CharField(max_length=255, validators=[NAME_VALIDATOR])
    description = models.TextField(blank=True, default="")
    filters = models.JSONField(default=dict)

    class Meta:
        ordering = ["name", "id"]
