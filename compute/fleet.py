"""A simulated fleet: one process serving N hypervisor hosts (`./manage.py agent --simulate N`).

Each simulated host is what `./manage.py agent --host H` on libvirt's test driver would be:
its own libvirt connection (`test:///<STATE_PATH>/fleet/H.xml`, its domains and capacity),
its own queues (`compute.H`, `network.H`, `volume.H`, all consumed by the one worker
`fleet@<first host>`), its own nova-compute/nova-network/nova-volume services and compute
node, reported every REPORT_INTERVAL seconds (one heartbeat thread for the whole fleet,
one UPDATE for all its services). Nova's functional tests run many compute services in one
process the same way; the benchmarks use it so that 50 hosts are not 50 interpreters.

A task learns which host it runs for from the queue that delivered it: around every task
the worker thread acts for that host (cloudproj.host.identity.acting_for), so
`current_host()` and `host_resources.driver()` answer for it.

What a simulated host does not do: the `agent_start` host hooks (bridges, dnsmasq,
iptables chains, NAT, metadata rules) and the image cache's periodic cleanup are not run,
since all simulated hosts share this machine's kernel and one image cache; the firewall
driver is forced to noop for the same reason. Instances a previous fleet process left in
flight are settled per host at start (compute.agent.settle_host).
"""
import logging
import os
import threading
from pathlib import Path

from celery import signals
from django.conf import settings
from django.db import close_old_connections, connection, transaction

from cloudproj.celery import HOST_TOPICS, host_queues
from cloudproj.host import identity

from .agent import AGENT_BINARIES, Heartbeat, settle_host
from .services import host_resources, hosts
from .services.hosts import validate_host_name

log = logging.getLogger(__name__)

_fleet: dict = {"hosts": frozenset(), "heartbeat": None}
_lock = threading.Lock()


def host_names(count: int, prefix: str = "sim-") -> list[str]:
    """`count` host names: prefix00, prefix01, ... (validated as host names)."""
    if count < 1:
        raise ValueError("a fleet has at least one host")
    width = max(2, len(str(count - 1)))
    return [validate_host_name(f"{prefix}{index:0{width}d}") for index in range(count)]


class FleetHeartbeat(Heartbeat):
    """Every service of the fleet in one UPDATE, then each host's compute node from its driver."""

    def __init__(self, services, drivers: dict, interval: float | None = None):
        super().__init__(services, interval=interval)
        self.name = "heartbeat-fleet"
        self.drivers = drivers

    def beat(self) -> None:
        close_old_connections()
        try:
            self.services = hosts.heartbeat_many(self.services)
            for service in self.services:
                if service.binary != "nova-compute":
                    continue
                try:
                    hosts.update_compute_node(service, self.drivers[service.host].host_stats())
                except Exception:  # one host's trouble must not stop the others' reports
                    log.exception("could not refresh compute node capacity of %s", service.host)
        finally:
            connection.close()


def start_fleet(names: list[str], memory_mb: int, vcpus: int, availability_zone: str | None = None,
                interval: float | None = None) -> FleetHeartbeat:
    """Register every simulated host's services and compute node, one driver per host, then
    heartbeat them all in the background. Raises DriverError if libvirt cannot be opened."""
    from .virt.libvirt_driver import LibvirtDriver  # imports libvirt: only when an agent starts
    from .virt.simulated import node_xml

    with _lock:
        if _fleet["heartbeat"] is not None:
            return _fleet["heartbeat"]
        settings.FIREWALL_DRIVER = "noop"  # N simulated hosts, one kernel: see the module docstring
        folder = Path(settings.STATE_PATH) / "fleet"
        folder.mkdir(parents=True, exist_ok=True)
        zone = availability_zone or os.environ.get("NODE_AVAILABILITY_ZONE") or None
        drivers, services = {}, []
        for name in names:
            driver = LibvirtDriver(node_xml(folder / f"{name}.xml", memory_mb, vcpus=vcpus), host=name)
            stats = driver.host_stats()
            with transaction.atomic():
                registered = [hosts.register_service(name, binary, zone) for binary in AGENT_BINARIES]
                hosts.update_compute_node(registered[0], stats)
            services.extend(registered)
            drivers[name] = driver
            host_resources.register_host_driver(name, driver)
        _fleet["hosts"] = frozenset(names)
        log.info("fleet of %d simulated hosts registered (%s .. %s; %s vCPUs, %s MB each)",
                 len(names), names[0], names[-1], vcpus, memory_mb)
        heartbeat = FleetHeartbeat(services, drivers, interval=interval)
        heartbeat.start()
        _fleet["heartbeat"] = heartbeat
        return heartbeat


def stop_fleet() -> None:
    """Heartbeats stop and threads act for no simulated host any more (worker shutdown)."""
    with _lock:
        if _fleet["heartbeat"] is not None:
            _fleet["heartbeat"].stop()
        _fleet["heartbeat"] = None
        _fleet["hosts"] = frozenset()


def fleet_queues(names: list[str]) -> list[str]:
    return [queue for name in names for queue in host_queues(name)]


def host_of_delivery(delivery_info: dict | None) -> str | None:
    """The fleet host whose queue (`topic.host`) delivered a task, else None."""
    routing_key = str((delivery_info or {}).get("routing_key") or "")
    topic, _, host = routing_key.partition(".")
    return host if topic in HOST_TOPICS and host in _fleet["hosts"] else None


@signals.task_prerun.connect(dispatch_uid="compute.fleet.task_prerun")
def _act_for_queue_host(task=None, **_kwargs):
    if _fleet["hosts"] and task is not None:
        identity.set_thread_host(host_of_delivery(getattr(task.request, "delivery_info", None)))


@signals.task_postrun.connect(dispatch_uid="compute.fleet.task_postrun")
def _act_for_nobody(**_kwargs):
    if _fleet["hosts"]:
        identity.set_thread_host(None)


@signals.worker_ready.connect(dispatch_uid="compute.fleet.worker_ready")
def _on_fleet_ready(sender=None, **_kwargs):
    """Settle, host by host, what a previous fleet process left in flight."""
    for name in sorted(_fleet["hosts"]):
        with identity.acting_for(name):
            settle_host(name)


@signals.worker_shutdown.connect(dispatch_uid="compute.fleet.worker_shutdown")
def _on_fleet_shutdown(sender=None, **_kwargs):
    stop_fleet()
