"""What a host agent does for its networks: bridges and dnsmasq, re-created from the DB.

- setup_network(network, host): bridge (gateway address, bridge_interface) + dnsmasq.
- dhcp_hosts(network, host): the hosts-file entries, from the DB.
- refresh_dhcp(network, host): regenerate the hosts file from the DB, SIGHUP dnsmasq
  (starting it if it is not running).
- supervise_host_networks(host): for every network the host serves, re-create what is
  missing (bridge, dnsmasq), record leases; stop dnsmasq of deleted networks.
- on_agent_start(host): the same at agent start-up (a restarted agent re-creates it all).

A host serves: networks whose `host` is this host, multi-host networks, and networks with
no host (the single-machine default network, served by every agent): network.services.serving,
which the API side uses too.
"""
import logging
from pathlib import Path

from django.conf import settings

from cloudproj.hostnames import sanitize_hostname

from ..linux import bridge as linux_bridge
from ..linux import dnsmasq, isolation
from ..linux import vlan as linux_vlan
from ..models import FixedIP, Network
from . import fixed_ips
from .networks import DEFAULT_LABEL
from .serving import request_refresh, served_networks, serving_host

log = logging.getLogger(__name__)

INJECTED = "none (flat: the address is on the guest's kernel command line)"


def bridge_address(network: Network, host: str | None) -> str:
    """The address this host has on the network's bridge: the network's gateway, or for a
    multi-host network the host's own DHCP address (its instances' gateway)."""
    if network.multi_host and host:
        return fixed_ips.host_dhcp_address(network, host)
    return network.gateway


def dnsmasq_config(network: Network, host: str | None = None) -> dnsmasq.DnsmasqConfig:
    return dnsmasq.DnsmasqConfig(
        network_id=network.pk,
        bridge=network.bridge,
        gateway=bridge_address(network, host),
        shared_segment=bool(network.multi_host and host),
        netmask=network.netmask,
        dhcp_start=network.dhcp_start,
        dhcp_end=None,  # static: only the instances of the hosts file get an address
        dns_servers=tuple(s for s in (network.dns1, network.dns2) if s),
        domain=getattr(settings, "DHCP_DOMAIN", "novalocal"),
        lease_time=int(getattr(settings, "DHCP_LEASE_TIME", 3600)),
        mtu=network.mtu,
    )


def ensure_bridge(network: Network, host: str | None = None) -> bool:
    return _ensure_bridge(network, host)[0]


def _ensure_bridge(network: Network, host: str | None = None) -> tuple[bool, str | None]:
    """(bridge created, VLAN step's outcome or None for a flat network)."""
    if network.injected:
        return _ensure_operator_bridge(network), None
    if network.vlan is None:
        return linux_bridge.ensure_bridge(
            network.bridge, f"{bridge_address(network, host)}/{network.prefixlen}",
            interface=network.bridge_interface or None, mtu=network.mtu,
        ), None
    # VLAN: the bridge never gets the raw interface (it would join every project's bridge to
    # one L2 segment), only the 802.1Q device of its vlan, where the kernel has them.
    created = linux_bridge.ensure_bridge(network.bridge, f"{bridge_address(network, host)}/{network.prefixlen}",
                                         mtu=network.mtu)
    state = vlan_tagging(network)
    isolation.ensure(isolation.chain_of_cloud(), [network.bridge])
    return created, state


def _ensure_operator_bridge(network: Network) -> bool:
    """Flat: the bridge is the operator's. An existing one keeps its addresses (the gateway is
    the operator's router); a missing one is created with the gateway address, which makes
    this host the guests' gateway (a single-machine cloud)."""
    if linux_bridge.exists(network.bridge):
        return linux_bridge.ensure_bridge(network.bridge, None, interface=network.bridge_interface or None,
                                          mtu=network.mtu)
    return linux_bridge.ensure_bridge(network.bridge, f"{network.gateway}/{network.prefixlen}",
                                      interface=network.bridge_interface or None, mtu=network.mtu)


def vlan_tagging(network: Network) -> str:
    """The 802.1Q device of the network's vlan on VLAN_INTERFACE, enslaved to its bridge:
    "<device> on <interface>", or "skipped: 802.1Q not available: <kernel message>"."""
    interface = network.bridge_interface or settings.VLAN_INTERFACE
    supported, reason = linux_vlan.support(interface, settings.VLAN_DEVICE_PREFIX)
    if not supported:
        return f"skipped: {reason}"
    name = linux_vlan.device_name(settings.VLAN_DEVICE_PREFIX, network.vlan)
    linux_vlan.ensure_device(name, interface, network.vlan, network.bridge)
    return f"{name} on {interface}"


def dhcp_hosts(network: Network, host: str | None = None) -> list[dnsmasq.HostEntry]:
    """The DHCP host entries of `network` from the DB (only `host`'s instances when multi-host)."""
    qs = FixedIP.objects.filter(network_id=network.pk, allocated=True, mac_address__isnull=False)
    if host and network.multi_host:
        qs = qs.filter(host=host)
    entries = []
    for mac, address, hostname in qs.order_by("id").values_list("mac_address", "address", "hostname"):
        entries.append(dnsmasq.HostEntry(mac, address, sanitize_hostname(hostname, "host-" + address.replace(".", "-"))))
    return entries


def refresh_dhcp(network: Network, host: str | None = None) -> str:
    """Hosts file from the DB (read under the network's lock), then start or SIGHUP dnsmasq;
    when entries went (a deleted instance's address), their leases are released too
    (dhcp_release; without it the orphan pass drops them).
    A Flat (injected) network has no dnsmasq: one left running from before is stopped."""
    if network.injected:
        if dnsmasq.is_running(network.pk):
            with dnsmasq.network_lock(network.pk):
                dnsmasq.stop(network.pk)
        return INJECTED
    with dnsmasq.network_lock(network.pk):
        entries = dhcp_hosts(network, host)
        cfg = dnsmasq_config(network, host)
        state = dnsmasq.ensure(cfg, entries)
        if state == "reloaded":
            released = dnsmasq.release_leases(cfg, entries)
            if released:
                log.info("network %s on %s: leases released for %s", network.label, host, released)
        return state


def setup_network(network: Network, host: str | None = None) -> dict:
    created, vlan_state = _ensure_bridge(network, host)
    state = refresh_dhcp(network, host)
    report = {"network": network.pk, "bridge": "created" if created else "present", "dnsmasq": state}
    if vlan_state is not None:
        report["vlan"] = vlan_state
        report["isolation"] = isolation.chain_of_cloud()
    return report


def teardown_network(network_id: int, bridge: str | None = None, operator_bridge: bool = False,
                     vlan: int | None = None) -> None:
    """Stop the network's dnsmasq, remove its 802.1Q device (VLAN) and its bridge (if no active
    network uses them and the bridge is not the operator's: a Flat network's bridge stays)."""
    with dnsmasq.network_lock(network_id):
        dnsmasq.stop(network_id)
    if vlan is not None and not Network.objects.filter(vlan=vlan).exists():
        linux_vlan.delete_device(linux_vlan.device_name(settings.VLAN_DEVICE_PREFIX, vlan))
    if bridge and not operator_bridge and not Network.objects.filter(bridge=bridge).exists():
        linux_bridge.delete_bridge(bridge)


def teardown_cloud(plan) -> dict:
    """Cloud teardown (a `cloud_teardown` host hook): every dnsmasq of this cloud (those whose
    pid files are under NETWORKS_PATH, found in /proc: a killed run's too) stopped, this cloud's
    VLAN isolation chain removed, and with `plan.bridges` the bridges of its networks (never
    an operator's: a Flat network's bridge stays)."""
    report: dict = {"dnsmasq stopped": dnsmasq.stop_all()}
    isolation.remove(isolation.chain_of_cloud())
    if plan.bridges:
        removed = []
        for network in Network.objects.filter(injected=False).order_by("id"):
            if network.bridge and linux_bridge.delete_bridge(network.bridge):
                removed.append(network.bridge)
        report["bridges removed"] = removed
    return report


def supervise_host_networks(host: str) -> dict:
    """One supervision pass; never raises (each network's failure is logged and reported)."""
    report = {}
    served = list(served_networks(host))
    for network in served:
        try:
            report[network.pk] = setup_network(network, host)
            if not network.injected:
                fixed_ips.mark_leased(network, dnsmasq.read_leases(network.pk))
            dnsmasq.clear_error(network.pk)
        except Exception as exc:  # one broken network must not stop the others
            log.exception("supervision of network %s on %s failed", network.pk, host)
            report[network.pk] = {"network": network.pk, "error": str(exc)}
            try:  # `./manage.py health` says why the network is not served
                why = getattr(exc, "stderr", "") or str(exc)  # a failed command: what it said, not its argv
                dnsmasq.record_error(network.pk, f"network {network.pk} ({network.bridge}) on {host}: {why}")
            except OSError:
                log.exception("could not record the failure of network %s", network.pk)
    served_ids = {network.pk for network in served}
    for orphan in _orphan_dirs(served_ids):
        try:
            network = Network.all_objects.filter(pk=orphan).first()
            if network is not None and network.deleted_at is None:
                continue  # active but served by another host: leave its files alone
            teardown_network(orphan, network.bridge if network is not None else None,
                             operator_bridge=network is not None and network.injected,
                             vlan=network.vlan if network is not None else None)
            report[orphan] = {"network": orphan, "dnsmasq": "stopped"}
        except Exception as exc:
            log.exception("could not tear down deleted network %s", orphan)
            report[orphan] = {"network": orphan, "error": str(exc)}
    return report


def _orphan_dirs(served_ids: set[int]) -> list[int]:
    base = Path(settings.NETWORKS_PATH)
    if not base.is_dir():
        return []
    ids = [int(p.name) for p in base.iterdir() if p.is_dir() and p.name.isdigit()]
    return [i for i in ids if i not in served_ids and dnsmasq.is_running(i)]


def on_agent_start(host: str) -> dict:
    """Re-create the bridges and dnsmasq of every network this host serves."""
    if not Network.objects.filter(label=DEFAULT_LABEL).exists():
        log.info("no default network yet; agent %s has nothing to set up for it", host)
    report = supervise_host_networks(host)
    log.info("agent %s networks: %s", host, report)
    return report


def prepare_instance_network(network: Network, instance_host: str) -> str:
    """For the boot pipeline's allocate_ip step, running in the agent of `instance_host`
    (after allocate_fixed_ip): make the DHCP entry live on the serving host.

    Served here (multi-host, host-less, or this host is the network host): bridge + hosts
    file + SIGHUP in-process. Otherwise: a `network.refresh_dhcp` task on
    `network.<network host>`. Returns "local:<dnsmasq state>" or "sent:<queue>".
    """
    target = serving_host(network, instance_host)
    if target == instance_host:
        ensure_bridge(network, instance_host)
        return "local:" + refresh_dhcp(network, instance_host)
    return "sent:" + request_refresh(network, target)
