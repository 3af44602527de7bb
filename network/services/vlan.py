"""The VLAN manager (the seeds' VlanManager): a pool of networks, one given to each project.

- create_vlan_networks: `network create --vlan_start N --num_networks K --network_size S
  --fixed_range_v4 CIDR` makes K networks: the first K subnets of size S of the range, vlan
  N, N+1, ..., bridge <VLAN_BRIDGE_PREFIX><vlan> (or --bridge for one network, or --bridge as
  a prefix for several), bridge_interface VLAN_INTERFACE, no project.
- network_for_project: the project's network, or the next free one (lowest vlan) assigned to
  it under row locks: the project's row serialises one project's first boots, SKIP LOCKED
  lets two projects take two different networks at the same time.
- associate / disassociate: /os-networks/add and /os-networks/{id}/action disassociate.
"""
import logging

from django.conf import settings
from django.db import transaction

from ..models import FixedIP, Network
from . import InvalidNetwork, NetworkInUse
from .managers import is_vlan
from .networks import create_network, creation_lock, parse_cidr

log = logging.getLogger(__name__)



def create_vlan_networks(label: str, cidr: str, vlan_start: int | None = None, num_networks: int = 1,
                         network_size: int | None = None, bridge: str | None = None,
                         bridge_interface: str | None = None, project=None, **kwargs) -> list[Network]:
    """K networks of one range, one transaction: all of them or none."""
    if vlan_start is None:
        vlan_start = settings.VLAN_START
    if isinstance(vlan_start, bool) or not isinstance(vlan_start, int) or isinstance(num_networks, bool) \
            or not isinstance(num_networks, int):
        raise InvalidNetwork("vlan_start and num_networks must be integers")
    if num_networks < 1 or num_networks > 4094:
        raise InvalidNetwork(f"num_networks {num_networks} must be between 1 and 4094")
    if vlan_start < 1 or vlan_start + num_networks - 1 > 4094:
        raise InvalidNetwork(f"vlan ids {vlan_start}..{vlan_start + num_networks - 1} must be within 1..4094")
    whole = parse_cidr(cidr)
    if network_size is None:
        network_size = whole.num_addresses // num_networks
        network_size = 1 << (network_size.bit_length() - 1) if network_size >= 4 else 0
    first = parse_cidr(str(whole), network_size)
    subnets = list(whole.subnets(new_prefix=first.prefixlen)) if first.prefixlen > whole.prefixlen else [whole]
    if len(subnets) < num_networks:
        raise InvalidNetwork(f"the range {whole} holds {len(subnets)} networks of {network_size} addresses, "
                             f"not {num_networks}")
    if bridge_interface is None:
        bridge_interface = settings.VLAN_INTERFACE or ""
    vlans = range(vlan_start, vlan_start + num_networks)
    created = []
    with transaction.atomic():
        creation_lock()  # the same lock as each create_network: the vlan check sees every creation
        taken = set(Network.objects.filter(vlan__isnull=False).values_list("vlan", flat=True))
        clash = sorted(taken.intersection(vlans))
        if clash:
            raise InvalidNetwork(f"vlan {clash[0]} is already used by another network")
        for index, (subnet, vlan) in enumerate(zip(subnets, vlans)):
            if bridge and num_networks == 1:
                name = bridge
            else:
                name = f"{bridge or settings.VLAN_BRIDGE_PREFIX}{vlan}"
            created.append(create_network(
                label if num_networks == 1 else f"{label}_{index + 1}", str(subnet), bridge=name,
                bridge_interface=bridge_interface, project=project, vlan=vlan, **kwargs,
            ))
    log.info("%d VLAN network(s) created from %s: vlans %s..%s", len(created), whole, vlans[0], vlans[-1])
    return created


def _lock_project(project_id: str) -> None:
    from identity.models import Project

    if not Project.objects.select_for_update().filter(pk=project_id).exists():
        raise InvalidNetwork(f"project {project_id} does not exist")


def network_for_project(project_id: str) -> Network:
    """The project's VLAN network, assigning the next free one on first use (400 when none is left)."""
    with transaction.atomic():
        _lock_project(project_id)
        own = Network.objects.filter(project_id=project_id).order_by("id").first()
        if own is not None:
            return own
        free = (Network.objects.filter(project__isnull=True, vlan__isnull=False)
                .select_for_update(skip_locked=True).order_by("vlan", "id").first())
        if free is None:
            raise InvalidNetwork(f"no network available for project {project_id}: an operator must create "
                                 f"more (network create --vlan_start ...)")
        free.project_id = project_id
        free.save(update_fields=["project", "updated_at"])
    log.info("network %s (vlan %s, %s) assigned to project %s", free.label, free.vlan, free.cidr, project_id)
    return free


def associate(network: Network, project_id: str) -> Network:
    """os-networks/add: give `network` to `project_id` (409 if another project has it)."""
    with transaction.atomic():
        row = Network.all_objects.select_for_update().get(pk=network.pk)
        if row.project_id and row.project_id != project_id:
            raise NetworkInUse(f"Network {row.label} is already associated with project {row.project_id}")
        if row.project_id != project_id:
            row.project_id = project_id
            row.save(update_fields=["project", "updated_at"])
    return row


def disassociate(network: Network) -> Network:
    """Back to the pool (and host: the seeds' disassociate); refused while addresses are allocated."""
    with transaction.atomic():
        row = Network.all_objects.select_for_update().get(pk=network.pk)
        if FixedIP.objects.filter(network=row, instance_uuid__isnull=False).exists():
            raise NetworkInUse(f"Network {row.label} still has allocated addresses: it cannot be disassociated")
        row.project = None
        row.save(update_fields=["project", "updated_at"])
    return row



def set_host(network: Network, host: str | None) -> Network:
    """associate_host / disassociate_host: the network host of a non-multi-host network."""
    with transaction.atomic():
        row = Network.all_objects.select_for_update().get(pk=network.pk)
        row.host = host.strip() if host else None
        row.save(update_fields=["host", "updated_at"])
    return row


def create_for_manager(label: str, cidr: str, vlan_start: int | None = None, **options) -> list[Network]:
    """What `network create` does: VLAN networks when a VLAN is given or NETWORK_MANAGER is
    vlan, else one Flat/FlatDHCP network (options: create_network's keyword arguments)."""
    if vlan_start is not None or is_vlan():
        return create_vlan_networks(label, cidr, vlan_start=vlan_start, **options)
    return [create_network(label, cidr, **options)]
