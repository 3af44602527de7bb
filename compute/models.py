"""Models of the compute app: flavors, services (heartbeats) and compute nodes (capacity)."""
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# --- flavors -------------------------------------------------------------------------------


class FlavorQuerySet(models.QuerySet):
    def active(self):
        return self.filter(deleted=False)


class Flavor(models.Model):
    """An instance type. Deleting marks it inactive (instances keep their own copy of the
    sizes); purging really removes the row. Name and flavorid are unique among active ones."""

    flavorid = models.CharField(max_length=255, db_index=True)
    name = models.CharField(max_length=255)
    memory_mb = models.PositiveIntegerField()
    vcpus = models.PositiveIntegerField()
    root_gb = models.PositiveIntegerField(default=0)
    ephemeral_gb = models.PositiveIntegerField(default=0)
    swap = models.PositiveIntegerField(default=0, help_text="MB")
    rxtx_factor = models.FloatField(default=1.0)
    is_public = models.BooleanField(default=True)
    disabled = models.BooleanField(default=False)
    deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FlavorQuerySet.as_manager()

    class Meta:
        ordering = ["flavorid"]
        constraints = [
            models.UniqueConstraint(fields=["name"], condition=Q(deleted=False), name="flavor_name_active_uniq"),
            models.UniqueConstraint(
                fields=["flavorid"], condition=Q(deleted=False), name="flavor_flavorid_active_uniq"
            ),
        ]

    def __str__(self):
        return self.name

    def is_accessible_by(self, project_id) -> bool:
        if self.is_public:
            return True
        return project_id is not None and self.access.filter(project_id=project_id).exists()


class FlavorExtraSpec(models.Model):
    flavor = models.ForeignKey(Flavor, on_delete=models.CASCADE, related_name="extra_specs")
    key = models.CharField(max_length=255)
    value = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["key"]
        constraints = [models.UniqueConstraint(fields=["flavor", "key"], name="flavor_extra_spec_uniq")]

    def __str__(self):
        return f"{self.key}={self.value}"


class FlavorAccess(models.Model):
    """A project allowed to use a private flavor (project ids are identity project ids)."""

    flavor = models.ForeignKey(Flavor, on_delete=models.CASCADE, related_name="access")
    project_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id"]
        verbose_name_plural = "flavor access"
        constraints = [models.UniqueConstraint(fields=["flavor", "project_id"], name="flavor_access_uniq")]

    def __str__(self):
        return f"{self.flavor_id}:{self.project_id}"


# --- services and compute nodes -----------------------------------------------------------

BINARY_TOPICS = {
    "nova-compute": "compute",
    "nova-network": "network",
    "nova-volume": "volume",
    "nova-scheduler": "scheduler",
}


class Service(models.Model):
    """A worker that heartbeats into the DB; `is_up` is derived from the last heartbeat."""

    host = models.CharField(max_length=255)
    binary = models.CharField(max_length=255)
    topic = models.CharField(max_length=255)
    availability_zone = models.CharField(max_length=255, blank=True)
    disabled = models.BooleanField(default=False)
    disabled_reason = models.CharField(max_length=255, blank=True, null=True)
    forced_down = models.BooleanField(default=False)
    report_count = models.PositiveBigIntegerField(default=0)
    last_seen_up = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["host", "binary"]
        constraints = [models.UniqueConstraint(fields=["host", "binary"], name="service_host_binary_uniq")]

    def __str__(self):
        return f"{self.binary}@{self.host}"

    @property
    def is_up(self) -> bool:
        return is_up(self)


def is_up(service: Service, now=None) -> bool:
    """Up = not forced down and the last heartbeat is younger than SERVICE_DOWN_TIME."""
    if service.forced_down or service.last_seen_up is None:
        return False
    now = now or timezone.now()
    return abs(now - service.last_seen_up) <= timedelta(seconds=settings.SERVICE_DOWN_TIME)


class ComputeNode(models.Model):
    """The hypervisor of a compute host: capacity reported by the driver, usage from claims."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="compute_nodes")
    host = models.CharField(max_length=255, db_index=True)
    hypervisor_hostname = models.CharField(max_length=255)
    hypervisor_type = models.CharField(max_length=255, blank=True)
    hypervisor_version = models.BigIntegerField(default=0)
    cpu_info = models.JSONField(default=dict, blank=True)
    vcpus = models.PositiveIntegerField(default=0)
    memory_mb = models.PositiveIntegerField(default=0)
    local_gb = models.PositiveIntegerField(default=0)
    vcpus_used = models.IntegerField(default=0)
    memory_mb_used = models.IntegerField(default=0)
    local_gb_used = models.IntegerField(default=0)
    free_ram_mb = models.IntegerField(default=0)
    free_disk_gb = models.IntegerField(default=0)
    disk_available_least = models.IntegerField(null=True, blank=True)
    current_workload = models.IntegerField(default=0)
    running_vms = models.IntegerField(default=0)
    host_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["host", "hypervisor_hostname"], name="compute_node_host_hv_uniq")
        ]

    def __str__(self):
        return self.hypervisor_hostname

    def recompute_free(self) -> None:
        """free_* follow capacity minus what claims use (call before saving usage changes)."""
        self.free_ram_mb = self.memory_mb - self.memory_mb_used
        self.free_disk_gb = self.local_gb - self.local_gb_used
