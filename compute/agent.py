"""Host agent and scheduler service lifecycle: registration and heartbeats.

A host agent is a Celery worker named `agent@<host>` consuming `compute.<host>`,
`network.<host>` and `volume.<host>`. When it starts it registers nova-compute,
nova-network and nova-volume for <host> plus the host's ComputeNode (capacity from the
libvirt driver), then a daemon thread reports every REPORT_INTERVAL seconds (service
`last_seen_up`/`report_count` and node capacity) for as long as the process lives. A
scheduler worker (`scheduler@HOST` on the `scheduler` queue) registers nova-scheduler the
same way. Kill the process and the services go `XXX` after SERVICE_DOWN_TIME.

`./manage.py agent` / `./manage.py scheduler` call `start_agent` / `start_scheduler`
before starting their worker; a worker started with the plain celery command and named
`agent@HOST` or `scheduler@HOST` gets the same through the `worker_init` signal below.
"""
import logging
import os
import threading

from celery import signals
from django.conf import settings
from django.db import close_old_connections, connection, transaction

from cloudproj.celery import SCHEDULER_QUEUE, host_queues
from cloudproj.host import hooks as host_hooks
from cloudproj.host.identity import agent_host, set_current_host

from .services import evacuate_host, hosts, image_cache, live_migration_host, recovery, resize_host, snapshot_host

log = logging.getLogger(__name__)

AGENT_BINARIES = ("nova-compute", "nova-network", "nova-volume")

_lock = threading.Lock()
_state: dict = {"heartbeats": {}}


class Heartbeat(threading.Thread):
    """Reports the given services (and the compute node) every `interval` seconds."""

    def __init__(self, services, driver=None, interval: float | None = None):
        super().__init__(name=f"heartbeat-{services[0].host}", daemon=True)
        self.services = list(services)
        self.driver = driver
        self.interval = float(interval if interval is not None else settings.REPORT_INTERVAL)
        self.stopped = threading.Event()

    def beat(self) -> None:
        close_old_connections()
        try:
            self.services = [hosts.heartbeat(service) for service in self.services]
            if self.driver is not None:
                compute = next((s for s in self.services if s.binary == "nova-compute"), None)
                if compute is not None:
                    try:
                        hosts.update_compute_node(compute, self.driver.host_stats())
                    except Exception:  # hypervisor trouble must not stop reports
                        log.exception("could not refresh compute node capacity of %s", compute.host)
        finally:
            connection.close()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                self.beat()
            except Exception:  # e.g. the database is briefly unreachable
                log.exception("heartbeat of %s failed; retrying in %ss", self.name, self.interval)

    def stop(self) -> None:
        self.stopped.set()


def _start(key: str, services, driver=None, interval=None) -> Heartbeat:
    heartbeat = Heartbeat(services, driver=driver, interval=interval)
    heartbeat.start()
    _state["heartbeats"][key] = heartbeat
    return heartbeat


def start_agent(host: str, availability_zone: str | None = None, driver=None, interval=None) -> Heartbeat:
    """Register the host's services and compute node, then heartbeat in the background.

    Raises compute.virt.driver.DriverError if the hypervisor cannot be reached.
    Idempotent within a process.
    """
    from .virt.libvirt_driver import LibvirtDriver  # imports libvirt: only when an agent starts

    with _lock:
        key = f"agent:{host}"
        if key in _state["heartbeats"]:
            return _state["heartbeats"][key]
        set_current_host(host)
        zone = availability_zone or os.environ.get("NODE_AVAILABILITY_ZONE") or None
        driver = driver or LibvirtDriver(host=host)
        stats = driver.host_stats()
        with transaction.atomic():  # services and node appear together
            services = [hosts.register_service(host, binary, zone) for binary in AGENT_BINARIES]
            node = hosts.update_compute_node(services[0], stats)
        log.info(
            "agent %s registered (%s; %s vCPUs, %s MB, %s GB)",
            host, node.hypervisor_hostname, node.vcpus, node.memory_mb, node.local_gb,
        )
        return _start(key, services, driver=driver, interval=interval)


def start_scheduler(host: str | None = None, interval=None) -> Heartbeat:
    """Register nova-scheduler for `host` (default CLOUD_HOST) and heartbeat it."""
    host = host or settings.CLOUD_HOST
    with _lock:
        key = f"scheduler:{host}"
        if key in _state["heartbeats"]:
            return _state["heartbeats"][key]
        service = hosts.register_service(host, "nova-scheduler")
        log.info("scheduler registered on %s", host)
        return _start(key, [service], interval=interval)


def stop_all() -> None:
    with _lock:
        for heartbeat in _state["heartbeats"].values():
            heartbeat.stop()
        _state["heartbeats"].clear()


# --- plain `celery worker` invocations --------------------------------------------------------


@signals.worker_init.connect(dispatch_uid="compute.agent.worker_init")
def _on_worker_init(sender=None, **kwargs):
    """Only workers named for the role act: `agent@HOST` consuming HOST's three queues, and
    `scheduler@HOST` consuming `scheduler` (test or ad-hoc workers register nothing)."""
    if sender is None:
        return
    consumed = set(getattr(sender.app.amqp.queues, "consume_from", None) or {})
    name, _, host = str(sender.hostname).partition("@")
    if name == "agent" and host and set(host_queues(host)) <= consumed:
        start_agent(host)
    elif name == "scheduler" and host and SCHEDULER_QUEUE in consumed:
        start_scheduler(host)


@signals.worker_ready.connect(dispatch_uid="compute.agent.worker_ready")
def _on_worker_ready(sender=None, **kwargs):
    """An agent runs the apps' agent_start hooks (networks, volumes, security groups,
    floating NAT, metadata rules: cloudproj.host.hooks), settles the snapshots and the boots
    and deletes its previous process left half-done (compute.services.recovery, Nova's
    init_host), and cleans its image cache periodically when IMAGE_CACHE_CLEANUP_INTERVAL > 0.
    A scheduler sends the builds waiting to be scheduled again (recovery.recover_scheduler)."""
    host = agent_host(sender)
    if not host:
        if _is_scheduler(sender):
            _recover_scheduler()
        return
    host_hooks.agent_start(host)
    settle_host(host)
    image_cache.start_periodic_cleanup(host)


def settle_host(host: str) -> None:
    """The snapshots, boots, deletes and resizes a previous process of `host` left half-done."""
    close_old_connections()
    for recover, what in ((snapshot_host.recover_interrupted, "interrupted snapshots"),
                          (recovery.recover_host, "instances in flight"),
                          (resize_host.recover_host, "resizes in flight"),
                          (live_migration_host.recover_host, "live migrations in flight"),
                          (evacuate_host.recover_host, "evacuations in flight"),
                          (evacuate_host.destroy_evacuated, "servers evacuated away")):
        try:
            recover(host)
        except Exception:  # the agent must still start
            log.exception("settling %s on %s failed", what, host)
    connection.close()


def _is_scheduler(sender) -> bool:
    """A worker (consumer) named `scheduler@host`."""
    hostname = getattr(sender, "hostname", None) or getattr(getattr(sender, "controller", None), "hostname", None)
    return str(hostname or "").partition("@")[0] == "scheduler"


def _recover_scheduler() -> None:
    """The builds a killed scheduler held go on now, not after the broker's visibility timeout."""
    close_old_connections()
    try:
        recovery.recover_scheduler()
    except Exception:  # the scheduler must still start; the reaper's pass sends them later
        log.exception("sending the builds waiting to be scheduled again failed")
    connection.close()


@signals.worker_shutdown.connect(dispatch_uid="compute.agent.worker_shutdown")
def _on_worker_shutdown(sender=None, **kwargs):
    stop_all()
    image_cache.stop_all()
