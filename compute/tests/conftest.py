"""Fixtures of the compute tests: registered hosts with real libvirt-test capacity."""
import pytest


@pytest.fixture
def compute_host(db):
    """register(host, zone=None) → the nova-compute Service, with its ComputeNode from the
    libvirt test driver (the same code path the agent uses)."""
    from compute.services import hosts
    from compute.virt.libvirt_driver import LibvirtDriver

    def register(host="host-a", zone=None, binaries=("nova-compute", "nova-network", "nova-volume")):
        services = [hosts.register_service(host, binary, zone) for binary in binaries]
        compute = next(s for s in services if s.binary == "nova-compute")
        hosts.update_compute_node(compute, LibvirtDriver("test:///default", host=host).host_stats())
        return compute

    return register
