"""Agent start-up (the `agent_start` host hook): the agent of <host> re-creates its networks
when ready, then supervises them every NETWORK_SUPERVISE_INTERVAL seconds (a dnsmasq that
died is restarted, a removed bridge re-created, leases recorded, deleted networks torn down).

compute.agent registers the services on `worker_init` and runs the agent_start hooks on
`worker_ready`, so a restarted agent re-creates the bridges and dnsmasq of every network its
host serves.
"""
import logging

from django.conf import settings

from cloudproj.host import periodic

from .services.host import on_agent_start as recreate_networks
from .services.host import supervise_host_networks

log = logging.getLogger(__name__)


def on_agent_start(host: str):
    """The host's networks re-created now (returns the report), then supervised."""
    try:
        return periodic.run_pass(f"re-creating the networks of {host}", recreate_networks, host)
    finally:
        start_supervision(host)


def start_supervision(host: str, interval: float | None = None):
    """A daemon thread of the agent running `supervise_host_networks(host)` periodically.
    Returns the event that stops it (set on worker shutdown)."""
    interval = interval if interval is not None else settings.NETWORK_SUPERVISE_INTERVAL
    return periodic.start(f"network:{host}", f"network supervision of {host}", supervise_host_networks,
                          interval, host)


def on_worker_shutdown(sender=None, **kwargs):
    """Stops every periodic pass of this agent (cloudproj.host.periodic does it on worker_shutdown)."""
    periodic.stop_all()
