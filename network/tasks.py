"""Thin Celery tasks of the network app; they run on `network.<host>` (the agent of <host>).

Sent by cloudproj.rpc (network.<host> queues); messages carry ids only.
"""
import logging

from celery import shared_task

from cloudproj import task_names as names
from cloudproj.host.identity import current_host

from .models import Network
from .services import host as host_service
from .services import orphans

log = logging.getLogger(__name__)


def _current_host(host):
    return host or current_host()


def _network(network_id):
    return Network.objects.filter(pk=network_id).first()


@shared_task(name=names.SETUP_NETWORK, acks_late=True)
def setup_network(network_id: int, host: str | None = None) -> dict | None:
    """Bridge + dnsmasq of one network on this host (idempotent)."""
    network = _network(network_id)
    if network is None:
        log.info("setup_network: network %s is gone", network_id)
        return None
    return host_service.setup_network(network, _current_host(host))


@shared_task(name=names.REFRESH_DHCP, acks_late=True)
def refresh_dhcp(network_id: int, host: str | None = None) -> str | None:
    """Regenerate the network's hosts file from the DB and reload (or start) its dnsmasq."""
    network = _network(network_id)
    if network is None:
        return None
    host = _current_host(host)
    host_service.ensure_bridge(network, host)
    return host_service.refresh_dhcp(network, host)


@shared_task(name=names.TEARDOWN_NETWORK, acks_late=True)
def teardown_network(network_id: int) -> None:
    network = Network.all_objects.filter(pk=network_id).first()
    if network is not None and network.deleted_at is None:
        return  # re-created or never deleted: nothing to tear down
    host_service.teardown_network(network_id, network.bridge if network else None,
                                  operator_bridge=network is not None and network.injected,
                                  vlan=network.vlan if network is not None else None)


@shared_task(name=names.SUPERVISE_NETWORKS, acks_late=True)
def supervise(host: str | None = None) -> dict:
    return {str(k): v for k, v in host_service.supervise_host_networks(_current_host(host)).items()}


@shared_task(name=names.CLEANUP_NETWORK_ORPHANS)
def cleanup_orphans(host: str) -> dict | None:
    """Periodic (beat fan-out): leaked fixed/floating IPs, stale leases, chains and NAT."""
    if host != current_host():
        log.warning("orphan cleanup for %s reached %s: ignored", host, current_host())
        return None
    return orphans.cleanup_orphans(host)
