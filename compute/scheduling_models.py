"""Models of server groups (affinity policies) and host aggregates (host sets with metadata,
availability zones). compute.models imports them, so `compute.models.ServerGroup` works."""
import uuid as _uuid

from django.db import models
from django.utils import timezone

from cloudproj.soft_delete import SoftDeleteModel

AFFINITY = "affinity"
ANTI_AFFINITY = "anti-affinity"
SOFT_AFFINITY = "soft-affinity"
SOFT_ANTI_AFFINITY = "soft-anti-affinity"
POLICIES = (AFFINITY, ANTI_AFFINITY, SOFT_AFFINITY, SOFT_ANTI_AFFINITY)


class ServerGroup(models.Model):
    """A set of servers placed by one policy. `rules` holds max_server_per_host (an
    anti-affinity group's servers per host, 1 unless set)."""

    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255)
    project_id = models.CharField(max_length=64, db_index=True)
    user_id = models.CharField(max_length=64)
    policy = models.CharField(max_length=32, choices=[(p, p) for p in POLICIES])
    rules = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.name} ({self.policy})"

    @property
    def max_server_per_host(self) -> int:
        return int((self.rules or {}).get("max_server_per_host", 1))


class ServerGroupMember(models.Model):
    """An instance (by uuid, as Nova keeps it) in a group; one group per instance."""

    group = models.ForeignKey(ServerGroup, on_delete=models.CASCADE, related_name="members")
    instance_uuid = models.UUIDField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.instance_uuid} in {self.group_id}"


class Aggregate(SoftDeleteModel):
    """A set of hosts with metadata; `availability_zone` metadata puts its hosts in that zone.
    Names are unique among aggregates not deleted."""

    name = models.CharField(max_length=255)
    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["name"], condition=models.Q(deleted_at__isnull=True),
                                    name="aggregate_name_active_uniq"),
        ]

    def __str__(self):
        return self.name


class AggregateHost(models.Model):
    aggregate = models.ForeignKey(Aggregate, on_delete=models.CASCADE, related_name="hosts")
    host = models.CharField(max_length=255, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["aggregate", "host"], name="aggregate_host_uniq")]

    def __str__(self):
        return self.host


class AggregateMetadata(models.Model):
    aggregate = models.ForeignKey(Aggregate, on_delete=models.CASCADE, related_name="metadata")
    key = models.CharField(max_length=255)
    value = models.CharField(max_length=255)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["aggregate", "key"], name="aggregate_metadata_uniq")]

    def __str__(self):
        return f"{self.key}={self.value}"


class Migration(models.Model):
    """A move of an instance between hosts (resize, cold or live migration, evacuation),
    as `GET /os-migrations` lists it. Generic: whoever moves instances records them here.
    `uuid`: shown from compute API 2.59."""

    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
    instance_uuid = models.UUIDField(db_index=True)
    source_compute = models.CharField(max_length=255, null=True, blank=True)
    source_node = models.CharField(max_length=255, null=True, blank=True)
    dest_compute = models.CharField(max_length=255, null=True, blank=True)
    dest_node = models.CharField(max_length=255, null=True, blank=True)
    dest_host = models.CharField(max_length=255, null=True, blank=True)  # the destination's address
    # Flavor primary keys (Nova's old/new_instance_type_id)
    old_instance_type_id = models.IntegerField(null=True, blank=True)
    new_instance_type_id = models.IntegerField(null=True, blank=True)
    status = models.CharField(max_length=255, db_index=True)
    migration_type = models.CharField(
        max_length=32, default="migration",
        choices=[(t, t) for t in ("migration", "resize", "live-migration", "evacuation")],
    )
    # a live migration's progress in bytes, as its source reads it while it runs
    memory_total = models.BigIntegerField(null=True, blank=True)
    memory_processed = models.BigIntegerField(null=True, blank=True)
    memory_remaining = models.BigIntegerField(null=True, blank=True)
    disk_total = models.BigIntegerField(null=True, blank=True)
    disk_processed = models.BigIntegerField(null=True, blank=True)
    disk_remaining = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.migration_type} {self.instance_uuid} {self.status}"
