"""Volumes, their attachments and snapshots, and the capacity each volume host reports.

A volume lives on one volume host (`host`, whose agent consumes `volume.<host>`); `id` is the
integer behind the EC2 id (vol-%08x), `uuid` the Block Storage API's id. Deletes are soft
(`deleted_at`), as for instances. An attachment row exists while a volume is attached (or
being attached) to a server; it is deleted when the volume is detached.
"""
import uuid as _uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from cloudproj.soft_delete import SoftDeleteModel

from . import states


DEFAULT_TYPE_NAME = "__DEFAULT__"


class QosSpecs(models.Model):
    """Cinder's QoS specs: a named set of key/value limits for a `consumer` (front-end,
    back-end or both), associated with volume types. Stored as data: no driver here applies
    them to a volume (see volumes/api/qos.py)."""

    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255, unique=True)
    consumer = models.CharField(max_length=16, default="back-end")
    specs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.uuid})"


class VolumeType(models.Model):
    """A Block Storage volume type (admins manage them). `__DEFAULT__` exists from the start, as
    in Cinder; a volume without a type has it. `extra_specs` are free key/value strings."""

    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255, unique=True)
    description = models.CharField(max_length=255, blank=True, default="")
    is_public = models.BooleanField(default=True)
    extra_specs = models.JSONField(default=dict, blank=True)
    qos_specs = models.ForeignKey(QosSpecs, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="volume_types")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.uuid})"


class VolumeTypeAccess(models.Model):
    """A project that may use a private volume type (Cinder's volume type access)."""

    volume_type = models.ForeignKey(VolumeType, on_delete=models.CASCADE, related_name="project_access")
    project_id = models.CharField(max_length=64)

    class Meta:
        ordering = ["project_id"]
        constraints = [models.UniqueConstraint(fields=["volume_type", "project_id"], name="unique_type_access")]


class Volume(SoftDeleteModel):
    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.CharField(max_length=255, blank=True, default="")
    size = models.PositiveIntegerField(help_text="GiB")
    availability_zone = models.CharField(max_length=255)
    status = models.CharField(max_length=32, default=states.CREATING, db_index=True,
                              choices=[(s, s) for s in states.VOLUME_STATUSES])
    # as instances: the project or user may be deleted while the volume stays
    project = models.ForeignKey("identity.Project", on_delete=models.DO_NOTHING, db_constraint=False,
                                related_name="volumes")
    user = models.ForeignKey("identity.User", on_delete=models.DO_NOTHING, db_constraint=False,
                             related_name="volumes")
    host = models.CharField(max_length=255, null=True, blank=True, db_index=True)
    driver = models.CharField(max_length=16, blank=True, default="")  # the host's driver at creation
    snapshot = models.ForeignKey("Snapshot", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="volumes_created")
    metadata = models.JSONField(default=dict, blank=True)
    # null: the default type (__DEFAULT__)
    volume_type = models.ForeignKey(VolumeType, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="volumes")
    bootable = models.BooleanField(default=False)
    # a clone (`source_volid`): made on the source's host from its data
    source_volume = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="clones")
    # a volume from an image (`imageRef`): the image's id, written into it by its host, and
    # what the API shows of it (`volume_image_metadata`, as Cinder's glance metadata)
    image_id = models.UUIDField(null=True, blank=True)
    image_metadata = models.JSONField(default=dict, blank=True)
    error_message = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(SoftDeleteModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "deleted_at"], name="volume_project_deleted_idx")]

    def __str__(self):
        return f"{self.name or self.ec2_id} ({self.uuid})"

    @property
    def ec2_id(self) -> str:
        return "vol-%08x" % self.id

    @property
    def storage_name(self) -> str:
        """The name of its storage on the host (LV or file stem), as Nova's volume_name_template."""
        return "volume-%08x" % self.id


class VolumeAttachment(models.Model):
    volume = models.OneToOneField(Volume, on_delete=models.CASCADE, related_name="attachment")
    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
    instance_uuid = models.UUIDField(db_index=True)  # no FK: compute is separate
    instance_host = models.CharField(max_length=255)
    device = models.CharField(max_length=32, blank=True, default="")  # /dev/vdX once attached
    # how the server's host reaches the volume when it is another host's (an iSCSI export);
    # empty: the volume is local to the server's host
    connection = models.JSONField(default=dict, blank=True)
    # recorded through the Block Storage API's os-attach (Cinder's bookkeeping call for an
    # attacher that connected the volume itself): no disk on the server's host, which the
    # Compute API neither shows nor detaches; os-detach / os-force_detach forget it
    external = models.BooleanField(default=False)
    # boot from volume: 0 for the server's root disk (block_device_mapping_v2 boot_index 0),
    # which is attached when the server is built, never detached while it exists, and removed
    # with the server when delete_on_termination
    boot_index = models.PositiveSmallIntegerField(null=True, blank=True)
    delete_on_termination = models.BooleanField(default=False)
    tag = models.CharField(max_length=60, null=True, blank=True)  # the device tag asked for on attach
    attached_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.volume_id} on {self.instance_uuid} {self.device}"


class Snapshot(SoftDeleteModel):
    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
    volume = models.ForeignKey(Volume, on_delete=models.DO_NOTHING, db_constraint=False, related_name="snapshots")
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.CharField(max_length=255, blank=True, default="")
    size = models.PositiveIntegerField(help_text="GiB")
    status = models.CharField(max_length=32, default=states.CREATING, db_index=True,
                              choices=[(s, s) for s in states.SNAPSHOT_STATUSES])
    project = models.ForeignKey("identity.Project", on_delete=models.DO_NOTHING, db_constraint=False,
                                related_name="volume_snapshots")
    user = models.ForeignKey("identity.User", on_delete=models.DO_NOTHING, db_constraint=False,
                             related_name="volume_snapshots")
    host = models.CharField(max_length=255, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # os-update_snapshot_status's progress ("80%"); empty: derived from the status
    progress = models.CharField(max_length=8, blank=True, default="")
    error_message = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(SoftDeleteModel.Meta):
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name or self.ec2_id} ({self.uuid})"

    @property
    def ec2_id(self) -> str:
        return "snap-%08x" % self.id

    @property
    def storage_name(self) -> str:
        return "snap-%08x" % self.id  # lvm reserves names starting with "snapshot"


class VolumeTransfer(models.Model):
    """A volume offered to another project (Cinder's os-volume-transfer): whoever shows the id
    and the secret `auth_key` (given once, at create; only a salted hash is kept) takes the
    volume, and its snapshots, into their project. The row goes when accepted or deleted."""

    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
    volume = models.OneToOneField(Volume, on_delete=models.CASCADE, related_name="transfer")
    name = models.CharField(max_length=255, blank=True, default="")
    salt = models.CharField(max_length=32)
    key_hash = models.CharField(max_length=64)  # sha256 hex of salt + auth_key
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"transfer {self.uuid} of volume {self.volume_id}"


class VolumeHost(models.Model):
    """What a volume host's agent last reported about its storage (the scheduler's input)."""

    host = models.CharField(max_length=255, unique=True)
    driver = models.CharField(max_length=16)
    total_gb = models.IntegerField(default=0)
    free_gb = models.IntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)  # e.g. {"vg": ..., "path": ...}
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["host"]
        constraints = [models.CheckConstraint(condition=Q(total_gb__gte=0), name="volumehost_total_nonnegative")]

    def __str__(self):
        return f"{self.host} ({self.driver}: {self.free_gb}/{self.total_gb} GB free)"


class Message(models.Model):
    """A user message (Cinder's /messages, microversion 3.3): why an asynchronous request on a
    volume or snapshot failed, for the project that owns it, until `expires_at`."""

    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey("identity.Project", on_delete=models.CASCADE, db_constraint=False,
                                related_name="volume_messages")
    request_id = models.CharField(max_length=255)
    resource_type = models.CharField(max_length=32)  # VOLUME, VOLUME_SNAPSHOT
    resource_uuid = models.CharField(max_length=36, blank=True, default="")
    event_id = models.CharField(max_length=64)
    message_level = models.CharField(max_length=16, default="ERROR")
    detail = models.CharField(max_length=255)  # the user message
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.event_id} {self.resource_type} {self.resource_uuid}"
