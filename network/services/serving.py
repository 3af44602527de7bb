"""Which host serves a network's DHCP, and asking it to refresh: DB and RPC only, used by the
API side (releasing addresses, floating IPs) and the agents (network.services.host).

A host serves: networks whose `host` is this host, multi-host networks, and networks with
no host (the single-machine default network, served by every agent).
"""
from django.db.models import Q

from cloudproj import rpc

from ..models import Network


def served_networks(host: str):
    """Networks this host serves; VLAN networks still in the pool (no project) wait for one."""
    return (Network.objects.filter(Q(host=host) | Q(multi_host=True) | Q(host__isnull=True))
            .exclude(vlan__isnull=False, project__isnull=True).order_by("id"))


def serving_host(network: Network, instance_host: str) -> str:
    """The host whose dnsmasq hands out an instance's address on `network`."""
    if network.host and not network.multi_host:
        return network.host
    return instance_host


def request_refresh(network: Network, target_host: str) -> str:
    """Queue `network.refresh_dhcp` on `network.<target_host>` (after the current transaction)."""
    return rpc.refresh_dhcp(target_host, network.pk)
