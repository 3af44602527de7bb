"""Hypervisor drivers: the only compute code that touches the host (libvirt)."""
from .driver import ComputeDriver, HostStats


def get_driver(uri: str | None = None) -> ComputeDriver:
    """The configured driver (libvirt at settings.LIBVIRT_URI unless `uri` is given)."""
    from .libvirt_driver import LibvirtDriver

    return LibvirtDriver(uri)


__all__ = ["ComputeDriver", "HostStats", "get_driver"]
