"""The driver interface every hypervisor driver implements.

A driver is the only code that touches a hypervisor. It never imports Django models: the
boot pipeline turns an Instance row into a plain `InstanceSpec` (compute/virt/spec.py) and
hands that over. Instances are addressed by their hypervisor name (`instance-%08x`) or
uuid; operations that may have to (re)create a domain take the whole spec, because a hard
reboot or a power-on rebuilds the domain "from the DB".

Errors are `DriverError` subclasses with messages an operator can act on.
"""
from dataclasses import asdict, dataclass, field

from .power_state import NOSTATE, STATE_NAMES  # noqa: F401 - re-exported


class DriverError(Exception):
    """The hypervisor could not be reached or refused the operation."""


class HypervisorUnavailable(DriverError):
    """The hypervisor connection could not be opened (or reopened)."""


class InvalidSpec(DriverError, ValueError):
    """An InstanceSpec field is not acceptable (bad name, MAC, path, size ...)."""


class InstanceNotFound(DriverError):
    """No domain with that name or uuid exists on this host."""


class InstanceExists(DriverError):
    """A domain with that name exists already with another uuid (or vice versa)."""


class InstanceInvalidState(DriverError):
    """The operation is not possible in the domain's current state."""


class MigrationAborted(DriverError):
    """A live migration was aborted on request; the guest runs on where it was."""


class InstanceTimeout(DriverError):
    """The domain did not reach the expected state in time."""


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


@dataclass
class InstanceInfo:
    """Nova's get_info: power state (compute.virt.power_state) and usage of one domain."""

    state: int
    max_mem_kb: int
    mem_kb: int
    num_cpu: int
    cpu_time_ns: int
    uuid: str = ""
    name: str = ""

    @property
    def state_name(self) -> str:
        return STATE_NAMES.get(self.state, "unknown")

    def as_dict(self) -> dict:
        return asdict(self)


class ComputeDriver:
    """Base class: one instance per process talks to one hypervisor.

    `instance` below is an InstanceSpec, or where noted a name/uuid string (an
    InstanceSpec is accepted there too). Every method is idempotent where the brief of
    the boot pipeline needs it (spawn of an already running domain with the same uuid,
    destroy of an absent domain, power_off of a stopped one ...).
    """

    host: str  # the compute host it serves

    # -- host ---------------------------------------------------------------------
    def host_stats(self, refresh: bool = True) -> HostStats:
        raise NotImplementedError

    def list_instance_ids(self) -> list[int]:
        """Hypervisor ids of the running domains."""
        raise NotImplementedError

    def list_instances(self) -> list[str]:
        """Names of all domains defined on this host (running or not)."""
        raise NotImplementedError

    def domain_owner(self, instance) -> str | None:
        """The host the domain was made for (from its metadata), None when unknown."""
        raise NotImplementedError

    def instance_exists(self, instance) -> bool:
        raise NotImplementedError

    # -- lifecycle ----------------------------------------------------------------
    def spawn(self, spec, timeout: float = 60.0) -> int:
        """Define and start the domain; wait until it runs; return its power state."""
        raise NotImplementedError

    def live_migrate(self, instance, dest_uri: str, prefixes: dict, dest_host: str, migrate_uri: str | None = None,
                     block: bool = True, watch=None) -> None:
        """Move the running guest to the hypervisor at `dest_uri` while it runs (see the
        libvirt driver); MigrationAborted when `watch` asked for it, DriverError otherwise."""
        raise NotImplementedError

    def define(self, spec) -> int:
        """Define (or redefine) the domain of `spec` without starting it; its power state."""
        raise NotImplementedError

    def destroy(self, instance, cleanup_files: bool = False) -> bool:
        """Stop and undefine; True if a domain was removed, False if it was absent."""
        raise NotImplementedError

    def reboot(self, spec, hard: bool = False, timeout: float = 120.0) -> int:
        raise NotImplementedError

    def power_off(self, instance, timeout: float = 60.0) -> int:
        raise NotImplementedError

    def power_on(self, spec, timeout: float = 60.0) -> int:
        raise NotImplementedError

    def pause(self, instance) -> int:
        raise NotImplementedError

    def unpause(self, instance) -> int:
        raise NotImplementedError

    def suspend(self, instance) -> int:
        raise NotImplementedError

    def resume(self, spec, timeout: float = 60.0) -> int:
        raise NotImplementedError

    def trigger_crash_dump(self, instance) -> None:
        """Inject an NMI into the running guest (its kernel's crash dump, e.g. kdump, takes it)."""
        raise NotImplementedError

    def get_info(self, instance) -> InstanceInfo:
        raise NotImplementedError

    def get_diagnostics(self, instance) -> dict:
        """Nova's pre-2.48 server diagnostics (flat keys: cpu0_time, memory, vda_read ...)."""
        raise NotImplementedError

    def get_power_state(self, instance) -> int:
        """The power state, NOSTATE when the domain does not exist."""
        raise NotImplementedError

    def console_log(self, instance, max_bytes: int = 64 * 1024) -> str:
        raise NotImplementedError

    def get_vnc_address(self, instance) -> tuple[str, int] | None:
        """(listen address, port) of the running guest's VNC server; None without one."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the hypervisor connection."""
