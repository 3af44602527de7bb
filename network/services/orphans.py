"""Leftovers of deleted instances in a host's networking, found and removed (a periodic pass
of the host's agent, sent by the beat fan-out; `network.cleanup_orphans`).

- fixed IPs still allocated to an instance that is deleted or has no row: back to the pool
  (the hosts file is regenerated from the DB, so their DHCP entries go with them);
- dnsmasq leases of addresses no hosts-file entry accounts for: dropped;
- then every `orphan_sweep` host hook, whose reports join this one: floating IPs still
  associated with such an instance disassociated (never a floating IP pointing at a dead
  server: operations guide section 9 #17) and the floating NAT rewritten (floating app);
  security-group chains of instances no longer on this host deleted (secgroups app).
"""
import logging

from cloudproj.host import hooks as host_hooks
from compute.models import Instance

from ..linux import dnsmasq
from . import fixed_ips
from .host import dhcp_hosts, dnsmasq_config, setup_network
from .serving import served_networks

log = logging.getLogger(__name__)


def _dead(uuids) -> set:
    uuids = set(uuids)
    live = set(Instance.objects.filter(uuid__in=uuids).values_list("uuid", flat=True))
    return uuids - live


def reclaim_fixed_ips(host: str) -> list[str]:
    held = fixed_ips.FixedIP.objects.filter(host=host, allocated=True, instance_uuid__isnull=False)
    released = []
    for instance_uuid in sorted(_dead(held.values_list("instance_uuid", flat=True)), key=str):
        for row in fixed_ips.release_fixed_ip(instance_uuid):
            log.warning("fixed IP %s was still held by deleted instance %s on %s: released", row.address,
                        instance_uuid, host)
            released.append(row.address)
    return released


def drop_stale_leases(host: str) -> dict[int, list]:
    dropped = {}
    for network in served_networks(host):
        if network.injected or not dnsmasq.paths(network.pk)["leases"].exists():
            continue
        with dnsmasq.network_lock(network.pk):
            pairs = dnsmasq.drop_leases(dnsmasq_config(network, host), dhcp_hosts(network, host))
        if pairs:
            log.warning("network %s on %s: leases dropped for %s", network.label, host, pairs)
            dropped[network.pk] = [ip for _mac, ip in pairs]
    return dropped


def cleanup_orphans(host: str) -> dict:
    report: dict = {"host": host, "fixed_ips": reclaim_fixed_ips(host)}
    for network in served_networks(host):
        setup_network(network, host)  # hosts file from the DB: entries of released addresses go
    report["leases"] = drop_stale_leases(host)
    report.update(host_hooks.orphan_sweeps(host))
    log.info("orphan cleanup of %s: %s", host, report)
    return report
