"""HostState: a snapshot of one compute node (capacity, usage, zone, service health) built
from live ComputeNode + Service rows, and the capacity checks shared by the filters and the
claims (so a host the filters accept is one a claim accepts, and the reverse).

Capacity rules (Nova's RamFilter / CoreFilter / DiskFilter / NumInstancesFilter):
- RAM:   memory_mb * RAM_ALLOCATION_RATIO - (memory_mb_used + RESERVED_HOST_MEMORY_MB) >= ram
- cores: vcpus * CPU_ALLOCATION_RATIO - vcpus_used >= vcpus (and vcpus <= physical vcpus)
- disk:  local_gb*1024 * DISK_ALLOCATION_RATIO - (local_gb_used*1024 + RESERVED_HOST_DISK_MB)
         >= (root_gb + ephemeral_gb)*1024 + swap
- instances: num_instances < MAX_INSTANCES_PER_HOST
"""
from dataclasses import dataclass, field

from django.conf import settings

from django.utils import timezone

from ..models import ComputeNode, heartbeat_is_recent, is_up

ARCH_ALIASES = {
    "amd64": "x86_64", "x64": "x86_64", "x86-64": "x86_64",
    "i386": "i686", "i486": "i686", "i586": "i686", "x86": "i686", "ia32": "i686",
    "arm64": "aarch64", "ppc64el": "ppc64le",
}


def canonical_arch(arch) -> str | None:
    if not arch:
        return None
    arch = str(arch).strip().lower()
    return ARCH_ALIASES.get(arch, arch)


# --- capacity checks (work on a HostState or a ComputeNode) ------------------------------------


def ram_fits(host, memory_mb: int) -> bool:
    limit = host.memory_mb * settings.RAM_ALLOCATION_RATIO
    used = host.memory_mb_used + settings.RESERVED_HOST_MEMORY_MB
    return limit - used >= memory_mb


def cores_fit(host, vcpus: int) -> bool:
    if host.vcpus <= 0:
        return True  # the driver does not report cpus: Nova skips the check
    if vcpus > host.vcpus:
        return False  # more than the host physically has
    return host.vcpus * settings.CPU_ALLOCATION_RATIO - host.vcpus_used >= vcpus


def disk_fits(host, disk_mb: int) -> bool:
    limit = host.local_gb * 1024 * settings.DISK_ALLOCATION_RATIO
    used = host.local_gb_used * 1024 + settings.RESERVED_HOST_DISK_MB
    return limit - used >= disk_mb


def instances_fit(host, count: int = 1) -> bool:
    return host.num_instances + count <= settings.MAX_INSTANCES_PER_HOST


def capacity_problem(host, spec) -> str | None:
    """Why `spec` does not fit on `host` (None when it fits)."""
    if not ram_fits(host, spec.memory_mb):
        return "not enough RAM"
    if not cores_fit(host, spec.vcpus):
        return "not enough vcpus"
    if not disk_fits(host, spec.disk_mb):
        return "not enough disk"
    if not instances_fit(host):
        return "too many instances"
    return None


# --- host states -------------------------------------------------------------------------------


@dataclass
class HostState:
    host: str
    nodename: str
    node_id: int
    availability_zone: str
    service_disabled: bool
    service_up: bool
    hypervisor_type: str
    hypervisor_version: int
    cpu_info: dict
    vcpus: int
    vcpus_used: int
    memory_mb: int
    memory_mb_used: int
    local_gb: int
    local_gb_used: int
    num_instances: int
    updated_at: object = None
    # filled in by the weighers
    weights: dict = field(default_factory=dict)

    @property
    def free_ram_mb(self) -> int:
        return self.memory_mb - self.memory_mb_used - settings.RESERVED_HOST_MEMORY_MB

    @property
    def free_disk_mb(self) -> int:
        return (self.local_gb - self.local_gb_used) * 1024 - settings.RESERVED_HOST_DISK_MB

    @property
    def architecture(self) -> str | None:
        return canonical_arch((self.cpu_info or {}).get("arch"))

    @property
    def supported_hypervisor_types(self) -> set:
        hv = (self.hypervisor_type or "").lower()
        if hv in ("qemu", "kvm"):
            return {"qemu", "kvm"}  # libvirt reports QEMU for both; Nova lists both
        return {hv} if hv else set()

    def consume(self, spec) -> None:
        """Account for an instance placed here (multi-instance selection in one pass)."""
        self.vcpus_used += spec.vcpus
        self.memory_mb_used += spec.memory_mb
        self.local_gb_used += spec.disk_gb
        self.num_instances += 1

    @classmethod
    def from_node(cls, node: ComputeNode, now=None) -> "HostState":
        service = node.service
        zone = service.availability_zone or settings.DEFAULT_AVAILABILITY_ZONE
        return cls(
            host=node.host,
            nodename=node.hypervisor_hostname,
            node_id=node.id,
            availability_zone=zone,
            service_disabled=service.disabled,
            service_up=is_up(service, now),
            hypervisor_type=node.hypervisor_type,
            hypervisor_version=node.hypervisor_version,
            cpu_info=node.cpu_info or {},
            vcpus=node.vcpus,
            vcpus_used=node.vcpus_used,
            memory_mb=node.memory_mb,
            memory_mb_used=node.memory_mb_used,
            local_gb=node.local_gb,
            local_gb_used=node.local_gb_used,
            num_instances=node.num_instances,
            updated_at=node.updated_at,
        )

    def __repr__(self):
        return (
            f"<HostState {self.host}/{self.nodename} ram {self.memory_mb_used}/{self.memory_mb} "
            f"vcpus {self.vcpus_used}/{self.vcpus} disk {self.local_gb_used}/{self.local_gb} "
            f"instances {self.num_instances}>"
        )


# the columns get_host_states reads, in HostState's order after the service's ones
NODE_COLUMNS = (
    "host", "hypervisor_hostname", "id", "service__availability_zone", "service__disabled",
    "service__forced_down", "service__last_seen_up", "hypervisor_type", "hypervisor_version", "cpu_info",
    "vcpus", "vcpus_used", "memory_mb", "memory_mb_used", "local_gb", "local_gb_used", "num_instances",
    "updated_at",
)


def get_host_states(hosts=None) -> list[HostState]:
    """HostStates of every compute node of a nova-compute service (optionally only `hosts`).

    Read as plain tuples, not model instances: at 10,000 hosts building ComputeNode and
    Service objects cost the scheduler over a second per placement (bench/RESULTS.md)."""
    qs = ComputeNode.objects.filter(service__binary="nova-compute")
    if hosts:
        qs = qs.filter(host__in=list(hosts))
    return host_states_from_rows(qs.order_by("host", "hypervisor_hostname").values_list(*NODE_COLUMNS))


def host_states_from_rows(rows) -> list[HostState]:
    """HostStates from rows of NODE_COLUMNS."""
    now = timezone.now()
    default_zone = settings.DEFAULT_AVAILABILITY_ZONE
    states = []
    for (host, nodename, node_id, zone, disabled, forced_down, last_seen_up, hv_type, hv_version, cpu_info,
         *usage, updated_at) in rows:
        states.append(HostState(
            host, nodename, node_id, zone or default_zone, disabled,
            heartbeat_is_recent(forced_down, last_seen_up, now), hv_type, hv_version, cpu_info or {},
            *usage, updated_at=updated_at,
        ))
    return states
