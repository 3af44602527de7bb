"""What a compute host must enforce, read from the DB as plain data (linux/iptables.py
renders it; tests can build the same data by hand).

For every live instance placed on the host that has fixed addresses: its addresses (with
the bridge and the DHCP server of each network) and the allow rules of all its groups, a
remote group expanded to the current fixed addresses of that group's members: ingress
rules (`allows`: what may reach it) and egress rules (`egress`: what it may send; None only
for firewalls built by hand without egress filtering). No remote: any address.
"""
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from compute.models import Instance, InstanceResize
from network.models import FixedIP
from network.services.fixed_ips import dhcp_servers

from ..models import EGRESS, SecurityGroupMember, SecurityGroupRule

ANY = "0.0.0.0/0"


@dataclass(frozen=True)
class Address:
    ip: str
    bridge: str
    dhcp_servers: tuple = ()


@dataclass(frozen=True)
class Allow:
    """Traffic from (ingress) or to (egress) `sources` (CIDRs); protocol None: every protocol."""

    protocol: str | None
    from_port: int | None
    to_port: int | None
    sources: tuple = field(default_factory=tuple)


@dataclass(frozen=True)
class InstanceFirewall:
    uuid: str
    addresses: tuple
    allows: tuple
    egress: tuple | None = None


def _addresses(instance_uuids) -> dict:
    result = defaultdict(list)
    rows = FixedIP.objects.filter(instance_uuid__in=list(instance_uuids)).select_related("network")
    for row in rows.order_by("network_id", "id"):
        result[str(row.instance_uuid)].append(row)
    return result


def _source_addresses(group_ids) -> dict:
    """{group id: sorted 'a.b.c.d/32' of its live members' fixed addresses}."""
    members = SecurityGroupMember.objects.filter(security_group_id__in=list(group_ids),
                                                 instance__deleted_at__isnull=True)
    by_instance = defaultdict(set)
    for group_id, uuid in members.values_list("security_group_id", "instance__uuid"):
        by_instance[str(uuid)].add(group_id)
    result = defaultdict(set)
    for row in FixedIP.objects.filter(instance_uuid__in=list(by_instance)).values_list("instance_uuid", "address"):
        for group_id in by_instance[str(row[0])]:
            result[group_id].add(f"{row[1]}/32")
    return {group_id: tuple(sorted(addresses, key=_ip_key)) for group_id, addresses in result.items()}


def _ip_key(cidr: str):
    return tuple(int(part) for part in cidr.split("/")[0].split("."))


def firewalls(instances) -> list[InstanceFirewall]:
    """The InstanceFirewall of each instance that has fixed addresses (in the given order)."""
    instances = list(instances)
    addresses = _addresses(i.uuid for i in instances)
    placed = [i for i in instances if addresses.get(str(i.uuid))]
    groups_of = defaultdict(list)
    for instance_id, group_id in SecurityGroupMember.objects.filter(
        instance_id__in=[i.pk for i in placed]
    ).order_by("security_group_id").values_list("instance_id", "security_group_id"):
        groups_of[instance_id].append(group_id)
    rules = list(SecurityGroupRule.objects.filter(
        parent_group_id__in={g for ids in groups_of.values() for g in ids}
    ).order_by("parent_group_id", "id"))
    sources = _source_addresses({r.group_id for r in rules if r.group_id})
    servers_by_network = {}

    def servers_of(network):
        if network.pk not in servers_by_network:
            servers_by_network[network.pk] = dhcp_servers(network)
        return servers_by_network[network.pk]

    result = []
    for instance in placed:
        allows: list[Allow] = []
        egress: list[Allow] = []
        for rule in rules:
            if rule.parent_group_id not in groups_of[instance.pk]:
                continue
            if rule.group_id:
                cidrs = sources.get(rule.group_id, ())
            else:
                cidrs = (rule.network or ANY,)
            if cidrs:
                (egress if rule.direction == EGRESS else allows).append(
                    Allow(rule.protocol, rule.from_port, rule.to_port, tuple(cidrs)))
        result.append(InstanceFirewall(
            uuid=str(instance.uuid),
            addresses=tuple(Address(row.address, row.network.bridge, servers_of(row.network))
                            for row in addresses[str(instance.uuid)]),
            allows=tuple(dict.fromkeys(allows)),  # the same rule in two groups: once
            egress=tuple(dict.fromkeys(egress)),
        ))
    return result


def instances_on(host: str, exclude=()):
    """Live instances placed on `host` (one being deleted keeps its chain until its host
    tears it down: a guest without a chain would be open), and those live-migrating to it:
    the target writes their chains before the guest arrives (the instance is still the
    source's until the migration completes)."""
    skip = [str(u) for u in exclude]
    arriving = Q(resize__kind=InstanceResize.LIVE, resize__dest_host=host)
    rows = Instance.objects.filter(Q(host=host) | arriving).order_by("id")
    return rows.exclude(uuid__in=skip) if skip else rows


def host_firewalls(host: str, exclude=()) -> list[InstanceFirewall]:
    return firewalls(instances_on(host, exclude))


def instance_firewall(instance) -> InstanceFirewall | None:
    found = firewalls([instance])
    return found[0] if found else None
