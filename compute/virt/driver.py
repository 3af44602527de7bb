"""The driver interface every hypervisor driver implements.

Only host stats are needed for registration and heartbeats; the boot pipeline adds
spawn/destroy/power operations here (they raise NotImplementedError until then).
"""
from dataclasses import asdict, dataclass, field


class DriverError(Exception):
    """The hypervisor could not be reached or refused the operation."""


@dataclass
class HostStats:
    """What a host offers, as reported by its hypervisor."""

    hypervisor_hostname: str
    hypervisor_type: str
    hypervisor_version: int
    vcpus: int
    memory_mb: int
    local_gb: int
    disk_available_least: int
    running_vms: int
    cpu_info: dict = field(default_factory=dict)
    host_ip: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class ComputeDriver:
    """Base class: one instance per process talks to one hypervisor."""

    def host_stats(self, refresh: bool = True) -> HostStats:
        raise NotImplementedError

    def list_instance_ids(self) -> list[int]:
        raise NotImplementedError

    def spawn(self, instance, **kwargs):
        raise NotImplementedError

    def destroy(self, instance, **kwargs):
        raise NotImplementedError

    def reboot(self, instance, hard: bool = False):
        raise NotImplementedError

    def power_on(self, instance):
        raise NotImplementedError

    def power_off(self, instance):
        raise NotImplementedError

    def get_info(self, instance) -> dict:
        raise NotImplementedError

    def close(self) -> None:
        """Release the hypervisor connection."""
