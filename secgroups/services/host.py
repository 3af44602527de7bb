"""The host side, run by the agent of the host (compute.<host> tasks and hooks).

- after_network(instance, host): the boot pipeline's hook once the instance has its fixed
  addresses: this host's chains regenerated with the new instance in them (an error fails
  the allocate_ip step, which is rolled back: a guest never runs without its chain).
- before_cleanup(instance, host): the teardown hook: its chain and jumps removed.
- refresh_instance(uuid, host): one instance's chain re-applied from the DB (rules or
  memberships changed).
- regenerate(host): every chain of the host rewritten from the DB, stale ones deleted
  (agent start-up; manual changes to those chains are overwritten).
- teardown(host): the host's chains and its jumps removed (a host taken out of service).
- on_agent_start(host): regenerate now and every FIREWALL_RESYNC_INTERVAL seconds (a chain
  changed or flushed by hand is put back).

With FIREWALL_DRIVER "noop" (Nova's NoopFirewallDriver) none of them touches iptables.
"""
import logging

from django.conf import settings

from cloudproj.host import iptables as host_iptables
from cloudproj.host import periodic
from cloudproj.host.locks import instance_lock
from compute.models import Instance

from ..linux import iptables
from . import firewall

log = logging.getLogger(__name__)


def enforced() -> bool:
    return settings.FIREWALL_DRIVER != "noop"


def regenerate(host: str, exclude=()) -> dict:
    if not enforced():
        return {"host": host, "instances": 0, "removed": [], "firewall_driver": "noop"}
    with host_iptables.lock():
        firewalls = firewall.host_firewalls(host, exclude)
        existing = iptables.chains_of(host)
        iptables.apply_host(host, firewalls, remove=existing)
    wanted = {chain for fw in firewalls for chain in iptables.chains_for(host, fw)}
    removed = sorted(existing - wanted - {iptables.host_chain(host)})
    log.info("security group chains of %s: %d instance(s), %d stale chain(s) removed", host, len(firewalls),
             len(removed))
    return {"host": host, "instances": len(firewalls), "removed": removed}


def on_agent_start(host: str):
    """Every chain of the host rewritten from the DB now, and again every
    FIREWALL_RESYNC_INTERVAL seconds (a chain changed or flushed by hand is put back)."""
    if not enforced():
        return None
    what = f"regenerating the security group chains of {host}"
    report = periodic.run_pass(what, regenerate, host)
    periodic.start(f"secgroups:{host}", what, regenerate, settings.FIREWALL_RESYNC_INTERVAL, host)
    return report


def after_network(instance, host: str) -> None:
    regenerate(host)


def before_cleanup(instance, host: str) -> None:
    regenerate(host, exclude=[instance.uuid])


def sweep_orphans(host: str) -> dict:
    """Orphan cleanup hook: chains of instances no longer on this host deleted."""
    return {"chains": regenerate(host)["removed"]}


def refresh_instance(instance_uuid, host: str) -> str:
    """Re-apply one instance's chain. Returns "applied" or why it was skipped."""
    if not enforced():
        return "skipped: FIREWALL_DRIVER is noop"
    with instance_lock(instance_uuid):  # waits for a boot step or a teardown of the instance
        instance = Instance.objects.filter(uuid=instance_uuid).first()
        if instance is None or instance.host != host:
            return "skipped: not on this host"
        with host_iptables.lock():
            rules = firewall.instance_firewall(instance)
            if rules is None:
                return "skipped: no fixed address yet"
            existing = iptables.chains_of(host)
            if iptables.instance_chain(host, instance.uuid) not in existing:
                return "skipped: no chain yet"  # the boot's after_network hook will write it
            if not set(iptables.chains_for(host, rules)) <= existing:
                # a chain written before egress was enforced: the host chain needs its jumps
                iptables.apply_host(host, firewall.host_firewalls(host), remove=existing)
            else:
                iptables.apply_instance(host, rules)
    log.info("security group chain of instance %s re-applied on %s", instance_uuid, host)
    return "applied"


def teardown(host: str) -> list[str]:
    if not enforced():
        return []
    with host_iptables.lock():
        chains = iptables.chains_of(host)
        iptables.remove_all(host, chains)
    return sorted(chains)


def teardown_cloud(plan) -> dict:
    """Cloud teardown (a `cloud_teardown` host hook): the security-group chains of the plan's
    hosts, unless the plan keeps them (guests still running)."""
    if not plan.firewall:
        return {"security group chains": "kept"}
    removed: list[str] = []
    with host_iptables.lock():
        for host in plan.hosts:
            chains = iptables.chains_of(host)
            if chains or any(host_iptables.jump_counts(iptables.TABLE, iptables.host_jumps(host)).values()):
                iptables.remove_all(host, chains)
                removed += sorted(chains)
    return {"security group chains": removed}
