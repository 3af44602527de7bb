"""Hypervisor drivers: the only compute code that touches the host (libvirt)."""
from .driver import (
    ComputeDriver,
    DriverError,
    HostStats,
    HypervisorUnavailable,
    InstanceExists,
    InstanceInfo,
    InstanceInvalidState,
    InstanceNotFound,
    InstanceTimeout,
    InvalidSpec,
)
from .spec import InstanceSpec, Nic, console_log_path, libvirt_name


def get_driver(uri: str | None = None) -> ComputeDriver:
    """The configured driver (libvirt at settings.LIBVIRT_URI unless `uri` is given)."""
    from .libvirt_driver import LibvirtDriver  # imports libvirt: only when a driver is made

    return LibvirtDriver(uri)


__all__ = [
    "ComputeDriver", "DriverError", "HostStats", "HypervisorUnavailable", "InstanceExists", "InstanceInfo",
    "InstanceInvalidState", "InstanceNotFound", "InstanceSpec", "InstanceTimeout", "InvalidSpec", "Nic",
    "console_log_path", "get_driver", "libvirt_name",
]
