"""Models of the images app: the image registry (Glance-like)."""
import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from cloudproj.soft_delete import SoftDeleteManager, SoftDeleteModel, SoftDeleteQuerySet

DISK_FORMATS = ("raw", "qcow2", "ami", "aki", "ari", "vmdk", "vdi", "iso")
CONTAINER_FORMATS = ("bare", "ami", "aki", "ari", "ovf")
# Amazon-style formats must go together (as Glance enforces).
AMAZON_FORMATS = ("ami", "aki", "ari")


def validate_image_name(value: str) -> None:
    if not isinstance(value, str):
        raise ValidationError("Image name must be a string.")
    if len(value) > 255:
        raise ValidationError("Image name must be at most 255 characters.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValidationError("Image name must not contain control characters.")


def validate_formats(disk_format: str, container_format: str) -> None:
    if not isinstance(disk_format, str) or not isinstance(container_format, str):
        raise ValidationError("disk_format and container_format must be strings.")
    if disk_format not in DISK_FORMATS:
        raise ValidationError(f"Invalid disk format '{disk_format}'.")
    if container_format not in CONTAINER_FORMATS:
        raise ValidationError(f"Invalid container format '{container_format}'.")
    if (disk_format in AMAZON_FORMATS or container_format in AMAZON_FORMATS) and disk_format != container_format:
        raise ValidationError(
            "Invalid mix of disk and container formats: ami, aki and ari need the same container format."
        )


class ImageQuerySet(SoftDeleteQuerySet):
    def visible_to(self, project_id: str | None, is_admin: bool = False):
        """Public/community to everyone, private/shared to the owner project, shared also to
        its members whatever their member status (admins see all)."""
        qs = self.alive()
        if is_admin:
            return qs
        rule = models.Q(visibility__in=[Image.PUBLIC, Image.COMMUNITY])
        if project_id:
            rule |= models.Q(owner_id=project_id)
            offered = ImageMember.objects.filter(member_id=project_id).values("image_id")
            rule |= models.Q(visibility=Image.SHARED, pk__in=offered)
        return qs.filter(rule)


class Image(SoftDeleteModel):
    PUBLIC, PRIVATE, SHARED, COMMUNITY = "public", "private", "shared", "community"
    VISIBILITIES = (PUBLIC, PRIVATE, SHARED, COMMUNITY)
    QUEUED, SAVING, ACTIVE, KILLED, DELETED, DEACTIVATED = (
        "queued", "saving", "active", "killed", "deleted", "deactivated",
    )
    STATUSES = (QUEUED, SAVING, ACTIVE, KILLED, DELETED, DEACTIVATED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=255, blank=True, default="", validators=[validate_image_name])
    # Glance's owner is a string: an admin may give an image to any project id, even one this
    # cloud does not know (no database constraint; only owner_id is ever read)
    owner = models.ForeignKey(
        "identity.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="images",
        db_constraint=False,
    )
    visibility = models.CharField(max_length=16, choices=[(v, v) for v in VISIBILITIES], default=SHARED)
    status = models.CharField(max_length=16, choices=[(s, s) for s in STATUSES], default=QUEUED)
    disk_format = models.CharField(max_length=16, choices=[(f, f) for f in DISK_FORMATS], null=True, blank=True)
    container_format = models.CharField(
        max_length=16, choices=[(f, f) for f in CONTAINER_FORMATS], null=True, blank=True
    )
    size = models.BigIntegerField(null=True, blank=True)
    virtual_size = models.BigIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=32, null=True, blank=True)  # md5 hex
    os_hash_algo = models.CharField(max_length=64, null=True, blank=True)
    os_hash_value = models.CharField(max_length=128, null=True, blank=True)
    min_disk = models.PositiveIntegerField(default=0)  # GB
    min_ram = models.PositiveIntegerField(default=0)  # MB
    protected = models.BooleanField(default=False)
    os_hidden = models.BooleanField(default=False)
    tags = models.JSONField(default=list, blank=True)
    # architecture, hypervisor_type, kernel_id, ramdisk_id, ... (all strings, as Glance)
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SoftDeleteManager.from_queryset(ImageQuerySet)()
    all_objects = ImageQuerySet.as_manager()

    class Meta(SoftDeleteModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["status", "visibility"]),
        ]

    def __str__(self):
        return f"{self.name or '-'} ({self.id})"

    def clean(self):
        validate_image_name(self.name or "")
        if self.disk_format or self.container_format:
            validate_formats(self.disk_format or "", self.container_format or "")

    @property
    def owner_project_id(self) -> str | None:
        return self.owner_id

    @property
    def kernel_id(self) -> str | None:
        return self.properties.get("kernel_id")

    @property
    def ramdisk_id(self) -> str | None:
        return self.properties.get("ramdisk_id")


class ImageMember(models.Model):
    """A project an image of visibility `shared` is offered to (Glance's image members)."""
    PENDING, ACCEPTED, REJECTED = "pending", "accepted", "rejected"
    STATUSES = (PENDING, ACCEPTED, REJECTED)

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="members")
    member_id = models.CharField(max_length=64)  # a project id
    status = models.CharField(max_length=16, choices=[(s, s) for s in STATUSES], default=PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["image", "member_id"], name="image_member_unique")]
        indexes = [models.Index(fields=["member_id", "status"])]

    def __str__(self):
        return f"{self.member_id} on {self.image_id} ({self.status})"


# --- Metadata definitions catalogue (Glance's metadefs) ---------------------------------------


class MetadefNamespace(models.Model):
    """A namespace of metadata definitions: public ones are seen by everyone, private ones by
    their owner project (and admins); a protected one cannot be deleted."""
    PUBLIC, PRIVATE = "public", "private"
    VISIBILITIES = (PUBLIC, PRIVATE)

    namespace = models.CharField(max_length=80, unique=True)
    display_name = models.CharField(max_length=80, blank=True, default="")
    description = models.CharField(max_length=500, blank=True, default="")
    visibility = models.CharField(max_length=16, choices=[(v, v) for v in VISIBILITIES], default=PRIVATE)
    protected = models.BooleanField(default=False)
    owner = models.CharField(max_length=255)  # a project id (Glance keeps it as a string)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.namespace


class MetadefResourceType(models.Model):
    name = models.CharField(max_length=80, unique=True)
    protected = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class MetadefResourceTypeAssociation(models.Model):
    namespace = models.ForeignKey(MetadefNamespace, on_delete=models.CASCADE, related_name="associations")
    resource_type = models.ForeignKey(MetadefResourceType, on_delete=models.CASCADE, related_name="associations")
    prefix = models.CharField(max_length=80, null=True, blank=True)
    properties_target = models.CharField(max_length=80, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["namespace", "resource_type"], name="metadef_rt_assoc_unique")]


class MetadefObject(models.Model):
    namespace = models.ForeignKey(MetadefNamespace, on_delete=models.CASCADE, related_name="object_defs")
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True, default="")
    required = models.JSONField(default=list, blank=True)
    properties = models.JSONField(default=dict, blank=True)  # name -> property JSON schema
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["namespace", "name"], name="metadef_object_unique")]


class MetadefProperty(models.Model):
    namespace = models.ForeignKey(MetadefNamespace, on_delete=models.CASCADE, related_name="property_defs")
    name = models.CharField(max_length=255)
    schema = models.JSONField(default=dict)  # title, type, description, enum, ... (not the name)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["namespace", "name"], name="metadef_property_unique")]


class MetadefTag(models.Model):
    namespace = models.ForeignKey(MetadefNamespace, on_delete=models.CASCADE, related_name="tag_defs")
    name = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["namespace", "name"], name="metadef_tag_unique")]
