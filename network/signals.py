"""Agent start-up hook: a worker named `agent@<host>` re-creates its networks when ready,
then supervises them every NETWORK_SUPERVISE_INTERVAL seconds (a dnsmasq that died is
restarted, a removed bridge re-created, leases recorded, deleted networks torn down).

compute.agent registers the services on `worker_init`; this runs on `worker_ready`, so a
restarted agent re-creates the bridges and dnsmasq of every network its host serves.
"""
import logging

from celery import signals
from django.conf import settings

from cloudproj.host.identity import agent_host

from . import periodic

log = logging.getLogger(__name__)


@signals.worker_ready.connect(dispatch_uid="network.signals.worker_ready")
def on_worker_ready(sender=None, **kwargs):
    host = agent_host(sender)
    if host is None:
        return None
    from .services.host import on_agent_start

    try:
        return periodic.run_pass(f"re-creating the networks of {host}", on_agent_start, host)
    finally:
        start_supervision(host)


def start_supervision(host: str, interval: float | None = None):
    """A daemon thread of the agent running `supervise_host_networks(host)` periodically.
    Returns the event that stops it (set on worker shutdown)."""
    from .services.host import supervise_host_networks

    interval = interval if interval is not None else settings.NETWORK_SUPERVISE_INTERVAL
    return periodic.start(f"network:{host}", f"network supervision of {host}", supervise_host_networks,
                          interval, host)


def on_worker_shutdown(sender=None, **kwargs):
    """Stops every periodic pass of this agent (network.periodic does it on worker_shutdown)."""
    periodic.stop_all()
