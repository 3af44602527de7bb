"""The NAT host's side of floating IPs, always regenerated from the DB (runs in its agent).

    mappings_for(host) -> [Mapping]        the associations whose NAT `host` does
    sync_host(host, only_if_needed=False)  chains + /32 addresses = what the DB says
    before_cleanup(instance, host)         host hook: an instance's resources are torn down
    on_agent_start(host)                   `agent@host` is ready: re-apply

An association counts only while its fixed IP still belongs to the same instance (a stale
row never NATs to an address that was handed to someone else). The agent records what it put
on its interfaces in NETWORKS_PATH/floating-nat.json, so it removes its own leftovers (an
address moved to another host while this one was down) without touching addresses another
agent of the same machine owns.
"""
import json
import logging
import os
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.db.models import F

from cloudproj.host import cloud
from cloudproj.host import iptables as host_iptables
from cloudproj.host import periodic
from cloudproj.host.run import HostCommandError
from network import validate
from network.services.serving import serving_host

from ..linux import nat
from ..models import FloatingIP
from . import addresses

log = logging.getLogger(__name__)

STATE_FILE = "floating-nat.json"


def interface_of(row: FloatingIP) -> str:
    return row.interface or settings.FLOATING_INTERFACE


def prefix_for(host: str) -> str:
    """The chain prefix of `host`'s NAT: FLOATING_CHAIN_PREFIX, else cpfip-<6 hex of the hash of
    the cloud's name and the host> (so that agents of several hosts and clouds sharing one machine
    never rewrite each other's chains)."""
    return settings.FLOATING_CHAIN_PREFIX or "cpfip-" + cloud.host_digest(host)


def mappings_for(host: str) -> list[nat.Mapping]:
    rows = (FloatingIP.objects.filter(host=host, instance_uuid__isnull=False, fixed_ip__isnull=False,
                                      fixed_ip__instance_uuid=F("instance_uuid"),
                                      fixed_ip__network__deleted_at__isnull=True)
            .select_related("fixed_ip").order_by("id"))
    mappings = []
    for row in rows:
        try:
            mappings.append(nat.Mapping(row.address, row.fixed_ip.address, interface_of(row)).validated())
        except validate.InvalidValue as exc:  # one bad row must not keep the others down
            log.error("floating IP %s is not applied on %s: %s", row.address, host, exc)
    return mappings


# --- what this agent put on its interfaces ----------------------------------------------------


def _state_path() -> Path:
    return Path(settings.NETWORKS_PATH) / STATE_FILE


def read_state() -> dict[str, dict]:
    try:
        data = json.loads(_state_path().read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.get("addresses", {}).items() if isinstance(v, dict)}


def _write_state(mappings) -> None:
    path = _state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"addresses": {m.floating: {"interface": m.interface, "fixed": m.fixed} for m in mappings}}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


# --- sync -------------------------------------------------------------------------------------


def _leftovers(host: str, wanted: dict, previous: dict) -> dict[str, str]:
    """{address: interface} to remove: what this agent added and no longer wants, and floating
    addresses on our interfaces that nobody else is meant to have (unassociated, or ours)."""
    remove = {addr: info.get("interface", "") for addr, info in previous.items()
              if addr not in wanted or wanted[addr].interface != info.get("interface")}
    interfaces = {m.interface for m in wanted.values()} | {settings.FLOATING_INTERFACE}
    interfaces |= {info.get("interface", "") for info in previous.values()}
    interfaces |= set(FloatingIP.objects.exclude(interface="").values_list("interface", flat=True).distinct())
    for interface in sorted(i for i in interfaces if i):
        try:
            if not nat.interface_exists(interface):
                continue
            present = nat.host_addresses(interface)
        except (validate.InvalidValue, HostCommandError):
            continue
        candidates = present - {a for a, m in wanted.items() if m.interface == interface}
        if not candidates:
            continue
        for address, owner in FloatingIP.objects.filter(address__in=sorted(candidates)).values_list("address", "host"):
            if owner in (None, "", host):
                remove.setdefault(address, interface)
    return remove


def sync_host(host: str, only_if_needed: bool = False) -> dict:
    """Make this host's floating NAT what the DB says: rules (one atomic restore), then the
    addresses. With `only_if_needed`, a host with nothing to NAT and no record of having done
    any touches nothing (an agent start on a machine without floating IPs)."""
    report: dict = {"host": host, "rules": 0, "added": [], "removed": [], "skipped": []}
    with host_iptables.lock():  # read the DB inside: a later sync never applies older rows
        mappings = mappings_for(host)
        previous = read_state()
        if only_if_needed and not mappings and not previous:
            return report
        usable = []
        for mapping in mappings:
            if nat.interface_exists(mapping.interface):
                usable.append(mapping)
            else:
                log.error("floating IP %s not applied on %s: interface %s does not exist", mapping.floating, host,
                          mapping.interface)
                report["skipped"].append(mapping.floating)
        wanted = {m.floating: m for m in usable}
        if usable:
            nat.enable_forwarding()
        report["rules"] = nat.apply_rules(usable, prefix_for(host))
        for address, interface in sorted(_leftovers(host, wanted, previous).items()):
            if interface and nat.remove_address(address, interface):
                report["removed"].append(address)
        for mapping in usable:
            if nat.add_address(mapping.floating, mapping.interface):
                report["added"].append(mapping.floating)
        for address, info in previous.items():
            if address not in wanted or wanted[address].fixed != info.get("fixed"):
                nat.clean_conntrack(address)
        _write_state(usable)
        _record_applied(host, usable)
    log.info("floating NAT of %s: %s", host, report)
    return report


def _record_applied(host: str, usable) -> None:
    """Mark in the DB which of `host`'s associations have their NAT in place now (the
    Networking API's status ACTIVE; DOWN otherwise). A row re-associated meanwhile is left
    alone: only a row still pointing at the applied fixed address is marked."""
    applied = {(m.floating, m.fixed) for m in usable}
    for row in FloatingIP.objects.filter(host=host).select_related("fixed_ip").order_by("id"):
        done = row.instance_uuid is not None and row.fixed_ip_id is not None and (
            row.address, row.fixed_ip.address) in applied
        if row.nat_applied != done:
            # update(), not save(): a status report is no revision of the user's resource
            FloatingIP.objects.filter(pk=row.pk, host=host, fixed_ip_id=row.fixed_ip_id,
                                      instance_uuid=row.instance_uuid).update(nat_applied=done)


# --- hooks ------------------------------------------------------------------------------------


def before_cleanup(instance, host: str) -> None:
    """The instance's resources are torn down on `host` (delete, failed build): its floating
    IPs are disassociated before its fixed addresses are released, and the NAT goes."""
    for nat_host in sorted(addresses.disassociate_instance(instance.uuid, notify=False)):
        if nat_host == host:
            sync_host(host)
        else:
            addresses.send_sync(nat_host)


def follow_instance(instance, host: str) -> list[str]:
    """An `after_network` host hook: the instance's floating IPs NATed by the host that serves
    its fixed address now (a migrated server's addresses follow it to its new host; the old
    NAT host drops them). Returns the addresses moved."""
    ctx = SimpleNamespace(project_id=instance.project_id, user_id=instance.user_id, is_admin=True)
    moved = []
    rows = (FloatingIP.objects.filter(instance_uuid=instance.uuid, fixed_ip__isnull=False,
                                      fixed_ip__instance_uuid=F("instance_uuid"))
            .select_related("fixed_ip__network").order_by("id"))
    for row in rows:
        target = serving_host(row.fixed_ip.network, row.fixed_ip.host or host) or None
        if target and row.host != target:
            addresses.associate(ctx, instance, row.address, fixed_address=row.fixed_ip.address)
            moved.append(row.address)
    if moved:
        log.info("floating IPs %s of instance %s follow it to %s", ", ".join(moved), instance.uuid, host)
    return moved


def on_agent_start(host: str) -> dict:
    return sync_host(host, only_if_needed=True)


def start_agent(host: str):
    """Agent start-up (an `agent_start` host hook): the host's floating NAT from the DB now,
    and again every FIREWALL_RESYNC_INTERVAL seconds (rules or addresses removed by hand are
    put back)."""
    what = f"re-applying the floating IPs of {host}"
    report = periodic.run_pass(what, on_agent_start, host)
    periodic.start(f"floating:{host}", what, on_agent_start, settings.FIREWALL_RESYNC_INTERVAL, host)
    return report


def teardown_cloud(plan) -> dict:
    """Cloud teardown (a `cloud_teardown` host hook): the floating NAT chains of the plan's hosts."""
    removed = []
    for host in plan.hosts:
        prefix = prefix_for(host)
        if any(nat.chain_rules(prefix).values()) or nat.present_jumps(prefix) or _chains_exist(prefix):
            nat.remove_rules(prefix)
            removed.append(prefix)
    return {"floating nat chains": removed}


def _chains_exist(prefix: str) -> bool:
    return bool(set(nat.chains(prefix).values()) & host_iptables.chains(nat.TABLE))
