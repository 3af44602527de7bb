"""Models of the compute app: flavors, services (heartbeats) and compute nodes (capacity)."""
import uuid as _uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cloudproj.soft_delete import SoftDeleteModel

# --- flavors -------------------------------------------------------------------------------


class Flavor(SoftDeleteModel):
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
    description = models.TextField(null=True, blank=True)  # compute API 2.55
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(SoftDeleteModel.Meta):
        ordering = ["flavorid"]
        constraints = [
            models.UniqueConstraint(fields=["name"], condition=Q(deleted_at__isnull=True),
                                    name="flavor_name_active_uniq"),
            models.UniqueConstraint(fields=["flavorid"], condition=Q(deleted_at__isnull=True),
                                    name="flavor_flavorid_active_uniq"),
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
    """A worker that heartbeats into the DB; `is_up` is derived from the last heartbeat. The
    compute API names it by `uuid` from microversion 2.53 (by `id` below)."""

    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
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
    return heartbeat_is_recent(service.forced_down, service.last_seen_up, now)


def heartbeat_is_recent(forced_down: bool, last_seen_up, now=None) -> bool:
    """is_up() on a service's raw columns (the scheduler reads thousands of rows as tuples)."""
    if forced_down or last_seen_up is None:
        return False
    now = now or timezone.now()
    return abs(now - last_seen_up) <= timedelta(seconds=settings.SERVICE_DOWN_TIME)


class ComputeNode(models.Model):
    """The hypervisor of a compute host: capacity reported by the driver, usage from claims.
    The compute API names it by `uuid` from microversion 2.53 (by `id` below)."""

    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
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
    # instances holding a capacity claim here (claim-driven, unlike running_vms which the
    # driver reports)
    num_instances = models.IntegerField(default=0)
    host_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["host", "hypervisor_hostname"], name="compute_node_host_hv_uniq")
        ]
        # the scheduler's ranking walks these: the weighers' SQL weights (RamWeigher, then
        # NumInstancesWeigher: most free RAM, then fewest instances), compute/scheduler/candidates.py
        indexes = [
            models.Index(models.F("memory_mb") - models.F("memory_mb_used"), models.F("num_instances").desc(),
                         name="compute_node_free_ram_idx"),
            models.Index(fields=["num_instances"], name="compute_node_instances_idx"),
        ]

    def __str__(self):
        return self.hypervisor_hostname

    def recompute_free(self) -> None:
        """free_* follow capacity minus what claims use (call before saving usage changes)."""
        self.free_ram_mb = self.memory_mb - self.memory_mb_used
        self.free_disk_gb = self.local_gb - self.local_gb_used


# --- instances -------------------------------------------------------------------------------
# States live in compute/states.py; the model only stores them.

from . import states as _states  # noqa: E402 - the instances section's own imports

MAX_USER_DATA = 65535


class Instance(SoftDeleteModel):
    """A server. `id` is the integer behind the EC2 id (i-%08x) and the libvirt name."""

    uuid = models.UUIDField(default=_uuid.uuid4, unique=True, editable=False)
    display_name = models.CharField(max_length=255)
    # the server's description (compute API 2.19); below 2.19 a create sets it to the name, as Nova
    display_description = models.CharField(max_length=255, null=True, blank=True)
    hostname = models.CharField(max_length=255, blank=True)
    # Keystone lets a user or project be deleted while it still has servers (they are kept,
    # as in Nova, which stores plain ids): no DB constraint, and deleting does nothing here.
    project = models.ForeignKey(
        "identity.Project", on_delete=models.DO_NOTHING, db_constraint=False, related_name="instances"
    )
    user = models.ForeignKey(
        "identity.User", on_delete=models.DO_NOTHING, db_constraint=False, related_name="instances"
    )
    # a copy of the flavor (instance_type): the flavor may change or go away later
    flavor = models.ForeignKey(Flavor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    flavorid = models.CharField(max_length=255)
    flavor_name = models.CharField(max_length=255)
    memory_mb = models.PositiveIntegerField()
    vcpus = models.PositiveIntegerField()
    root_gb = models.PositiveIntegerField(default=0)
    ephemeral_gb = models.PositiveIntegerField(default=0)
    swap = models.PositiveIntegerField(default=0, help_text="MB")
    flavor_extra_specs = models.JSONField(default=dict, blank=True)
    image_ref = models.CharField(max_length=255, blank=True)
    image_properties = models.JSONField(default=dict, blank=True)
    kernel_id = models.CharField(max_length=255, blank=True)
    ramdisk_id = models.CharField(max_length=255, blank=True)
    key_name = models.CharField(max_length=255, null=True, blank=True)
    key_data = models.TextField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    user_data = models.TextField(null=True, blank=True)
    availability_zone = models.CharField(max_length=255, null=True, blank=True)
    requested_networks = models.JSONField(default=list, blank=True)
    security_groups = models.JSONField(default=list, blank=True)
    host = models.CharField(max_length=255, null=True, blank=True, db_index=True)
    node = models.CharField(max_length=255, null=True, blank=True)
    reservation_id = models.CharField(max_length=255, db_index=True)
    launch_index = models.PositiveIntegerField(default=0)
    vm_state = models.CharField(
        max_length=255, default=_states.BUILDING, db_index=True, choices=[(s, s) for s in _states.VM_STATES]
    )
    task_state = models.CharField(
        max_length=255, null=True, blank=True, choices=[(s, s) for s in _states.TASK_STATES]
    )
    power_state = models.IntegerField(
        default=_states.NOSTATE, choices=list(_states.POWER_STATE_NAMES.items())
    )
    access_ip_v4 = models.GenericIPAddressField(protocol="IPv4", null=True, blank=True)
    access_ip_v6 = models.GenericIPAddressField(protocol="IPv6", null=True, blank=True)
    config_drive = models.BooleanField(default=False)
    # OS-DCF:diskConfig AUTO (True) or MANUAL: recorded and shown; the root disk has the
    # flavor's size either way and the guest grows its own filesystem (cloud-init growpart)
    auto_disk_config = models.BooleanField(default=False)
    progress = models.PositiveSmallIntegerField(default=0)
    locked = models.BooleanField(default=False)
    locked_by = models.CharField(max_length=16, null=True, blank=True)  # "admin" | "owner"
    locked_reason = models.CharField(max_length=255, null=True, blank=True)
    # compute API 2.63: the certificate ids asked for on create/rebuild (shown, not verified:
    # this cloud checks no image signatures)
    trusted_certs = models.JSONField(null=True, blank=True)
    # scheduling: {"num_attempts": n, "hosts": [[host, node], ...]}
    retry = models.JSONField(default=dict, blank=True)
    scheduler_hints = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)

    class Meta(SoftDeleteModel.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "deleted_at"], name="instance_project_deleted_idx")]

    def __str__(self):
        return f"{self.display_name} ({self.uuid})"

    @property
    def ec2_id(self) -> str:
        return "i-%08x" % self.id

    @property
    def name(self) -> str:
        """The libvirt domain name."""
        return "instance-%08x" % self.id

    @property
    def status(self) -> str:
        return _states.api_status(self.vm_state, self.task_state)


class InstanceFault(models.Model):
    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="faults")
    code = models.IntegerField(default=500)
    message = models.CharField(max_length=255)
    details = models.TextField(blank=True, default="")
    host = models.CharField(max_length=255, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.code} {self.message}"


class InstanceAction(models.Model):
    """One API request on an instance (`GET /servers/{id}/os-instance-actions`)."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=255)
    request_id = models.CharField(max_length=255, db_index=True)
    user_id = models.CharField(max_length=64, null=True, blank=True)
    project_id = models.CharField(max_length=64, null=True, blank=True)
    start_time = models.DateTimeField(default=timezone.now)
    finish_time = models.DateTimeField(null=True, blank=True)
    message = models.CharField(max_length=255, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_time", "-id"]

    def __str__(self):
        return f"{self.action} {self.request_id}"


class InstanceActionEvent(models.Model):
    """One step of an action (schedule, allocate_ip, spawn...)."""

    action = models.ForeignKey(InstanceAction, on_delete=models.CASCADE, related_name="events")
    event = models.CharField(max_length=255)
    start_time = models.DateTimeField(default=timezone.now)
    finish_time = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=255, null=True, blank=True)
    traceback = models.TextField(null=True, blank=True)
    host = models.CharField(max_length=255, null=True, blank=True)
    details = models.TextField(null=True, blank=True)

    class Meta:
        ordering = ["start_time", "id"]

    def __str__(self):
        return f"{self.event}: {self.result}"


class Claim(models.Model):
    """Capacity an instance holds on a compute node. One per instance: releasing deletes the
    row and gives the resources back, so a release can only happen once."""

    instance = models.OneToOneField(Instance, on_delete=models.CASCADE, related_name="claim")
    compute_node = models.ForeignKey(ComputeNode, on_delete=models.CASCADE, related_name="claims")
    host = models.CharField(max_length=255)
    vcpus = models.IntegerField()
    memory_mb = models.IntegerField()
    disk_gb = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.instance_id}@{self.host}"


KEYPAIR_TYPES = (("ssh", "ssh"), ("x509", "x509"))


class KeyPair(models.Model):
    user = models.ForeignKey("identity.User", on_delete=models.CASCADE, related_name="keypairs")
    name = models.CharField(max_length=255)
    public_key = models.TextField()
    fingerprint = models.CharField(max_length=255)
    type = models.CharField(max_length=8, choices=KEYPAIR_TYPES, default="ssh")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="keypair_user_name_uniq")]

    def __str__(self):
        return self.name


# server groups, host aggregates and migrations live in their own module
from .scheduling_models import (  # noqa: E402,F401 - registered as compute models
    Aggregate, AggregateHost, AggregateMetadata, Migration, ServerGroup, ServerGroupMember,
)
from .resize_models import InstanceResize  # noqa: E402,F401 - a model of this app (resize in flight)
