"""The Networking API's networks and subnets over nova-network (plain Python).

Mapping (what `openstack network create n1` + `openstack subnet create --network n1
--subnet-range 10.x.y.0/24 s1` do here):
- POST network: a PendingNetwork (name, description, project, mtu, the VLAN asked for as
  `provider:segmentation_id`), with the id the client is given. It lists as a network with no
  subnet.
- POST subnet (cidr) on it: the nova-network network is created under the same uuid, for the
  manager in use: a VLAN network (the VLAN asked for, or the next free one from VLAN_START,
  bridge VLAN_BRIDGE_PREFIX<vlan> on VLAN_INTERFACE) with the VLAN manager; otherwise a
  Flat/FlatDHCP network on FLAT_NETWORK_BRIDGE/FLAT_INTERFACE if no network uses that bridge
  yet, else on a bridge of its own (`brq<id>`, no physical interface: it connects the guests
  of each host, as a host-only network). `enable_dhcp` false makes a Flat (injected) network.
  The gateway is the CIDR's first address and the allocation pool runs from its third to its
  last-but-one address (nova-network's layout): other values are refused (400).
- One subnet per network: a second subnet is a 409. A subnet goes with its network (DELETE
  network); deleting the subnet alone is a 409.
- The subnet's id is derived from the network's uuid (stable, no row of its own).
"""
from __future__ import annotations

import ipaddress
import uuid as uuid_module

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from cloudproj.exceptions import Conflict, Invalid, NotFound

from ..models import FixedIP, Network, PendingNetwork
from . import InvalidNetwork, NetworkError, NetworkInUse, NetworkNotFound
from . import networks as network_service
from . import vlan as vlan_service
from .managers import is_vlan

_SUBNET_NAMESPACE = uuid_module.uuid5(uuid_module.NAMESPACE_URL, "cloudproj:subnet")
DEFAULT_MTU = 1500


class SubnetNotFound(NetworkError, NotFound):
    code = 404


class SubnetInUse(NetworkError, Conflict):
    code = 409


class InvalidInput(NetworkError, Invalid):
    code = 400


def subnet_id(network: Network) -> str:
    """The id of the network's one subnet: derived from its uuid, stable."""
    return str(uuid_module.uuid5(_SUBNET_NAMESPACE, str(network.uuid)))


def _uuid(value) -> uuid_module.UUID | None:
    try:
        return value if isinstance(value, uuid_module.UUID) else uuid_module.UUID(str(value))
    except ValueError:
        return None


def _visible(qs, project_id: str | None, is_admin: bool):
    return qs if is_admin else qs.filter(Q(project__isnull=True) | Q(project_id=project_id))


def networks(project_id: str | None, is_admin: bool) -> list[Network | PendingNetwork]:
    """Every network the caller sees: nova-network's and those still waiting for a subnet."""
    active = list(network_service.visible_networks(project_id, is_admin).order_by("id"))
    pending = list(_visible(PendingNetwork.objects.select_related("project"), project_id, is_admin))
    return [*active, *pending]


def find_network(network_id, project_id: str | None, is_admin: bool) -> Network | PendingNetwork:
    """A network by its uuid (404 NetworkNotFound otherwise, also for another project's)."""
    value = _uuid(network_id)
    if value is not None:
        found = network_service.visible_networks(project_id, is_admin).filter(uuid=value).first()
        if found is None:
            found = _visible(PendingNetwork.objects.select_related("project"), project_id, is_admin) \
                .filter(uuid=value).first()
        if found is not None:
            return found
    raise NetworkNotFound(f"Network {network_id} could not be found.")


def find_subnet(subnet: str, project_id: str | None, is_admin: bool) -> Network:
    """The network whose subnet is `subnet` (404 SubnetNotFound otherwise)."""
    for network in network_service.visible_networks(project_id, is_admin):
        if subnet_id(network) == str(subnet):
            return network
    raise SubnetNotFound(f"Subnet {subnet} could not be found.")


def _check_label(label: str, exclude_uuid=None) -> str:
    label = (label or "").strip()
    if not label or len(label) > 255:
        raise InvalidInput("a network name of 1-255 characters is required (nova-network networks have names)")
    taken = Network.objects.filter(label=label).exclude(uuid=exclude_uuid).exists() or \
        PendingNetwork.objects.filter(label=label).exclude(uuid=exclude_uuid).exists()
    if taken:
        raise Conflict(f"A network named {label!r} already exists: network names are unique in this cloud.")
    return label


def create_network(name: str, project=None, description: str = "", mtu: int | None = None,
                   vlan: int | None = None) -> PendingNetwork:
    """POST network: a network waiting for its subnet (see the module docstring)."""
    if mtu is not None and not 576 <= mtu <= 9000:
        raise InvalidInput(f"mtu {mtu} must be between 576 and 9000")
    if vlan is not None:
        if not is_vlan():
            raise InvalidInput("provider:segmentation_id (a VLAN) needs the VLAN network manager; this cloud runs "
                               f"{settings.NETWORK_MANAGER}")
        if not 1 <= vlan <= 4094:
            raise InvalidInput(f"provider:segmentation_id {vlan} must be between 1 and 4094")
        if Network.objects.filter(vlan=vlan).exists() or PendingNetwork.objects.filter(vlan=vlan).exists():
            raise Conflict(f"VLAN {vlan} is already used by another network")
    with transaction.atomic():
        network_service.creation_lock()
        label = _check_label(name)
        return PendingNetwork.objects.create(label=label, project=project, description=description or "",
                                             mtu=mtu, vlan=vlan)


def update_network(network: Network | PendingNetwork, name: str | None = None,
                   description: str | None = None) -> Network | PendingNetwork:
    with transaction.atomic():
        network_service.creation_lock()
        fields = ["updated_at"]
        if name is not None:
            network.label = _check_label(name, exclude_uuid=network.uuid)
            fields.append("label")
        if description is not None:
            network.description = description
            fields.append("description")
        network.save(update_fields=fields)
    return network


def delete_network(network: Network | PendingNetwork) -> None:
    """DELETE network (its subnet with it); 409 NetworkInUse while a server holds an address."""
    if isinstance(network, PendingNetwork):
        PendingNetwork.objects.filter(pk=network.pk).delete()
        return
    try:
        network_service.delete_network(network)
    except NetworkInUse:
        raise NetworkInUse(f"Unable to complete operation on network {network.uuid}. There are one or more "
                           "ports still in use on the network.") from None


def _next_vlan() -> int:
    taken = set(Network.objects.filter(vlan__isnull=False).values_list("vlan", flat=True))
    taken |= set(PendingNetwork.objects.filter(vlan__isnull=False).values_list("vlan", flat=True))
    vlan = settings.VLAN_START
    while vlan in taken:
        vlan += 1
    if vlan > 4094:
        raise Conflict("no VLAN id is left for a new network")
    return vlan


def _flat_bridge(pending: PendingNetwork) -> tuple[str, str]:
    """(bridge, bridge_interface) of a new Flat/FlatDHCP network (see the module docstring)."""
    if not Network.objects.filter(bridge=settings.FLAT_NETWORK_BRIDGE).exists():
        return settings.FLAT_NETWORK_BRIDGE, settings.FLAT_INTERFACE or ""
    return "brq" + pending.uuid.hex[:11], ""


def create_subnet(network_id, cidr: str, project_id: str | None, is_admin: bool, name: str = "",
                  gateway_ip: str | None = "", enable_dhcp: bool | None = None,
                  dns_nameservers: list[str] | None = None, allocation_pools: list[dict] | None = None,
                  ip_version: int = 4) -> Network:
    """POST subnet: the pending network becomes nova-network's network of `cidr`."""
    if ip_version != 4:
        raise InvalidInput("Only IPv4 subnets are supported: this cloud's networks are nova-network's (IPv4).")
    target = find_network(network_id, project_id, is_admin)
    if isinstance(target, Network):
        raise Conflict(f"Network {target.uuid} already has its subnet {subnet_id(target)}: a nova-network "
                       "network has exactly one subnet.")
    try:
        net = network_service.parse_cidr(cidr)
    except InvalidNetwork as exc:
        raise InvalidInput(f"Invalid input for cidr: {exc.message}") from None
    addresses = (net[1], net[2], net[-2])
    if gateway_ip not in ("", None) and str(gateway_ip) != str(addresses[0]):
        raise InvalidInput(f"gateway_ip must be {addresses[0]}, the first address of {net} (nova-network's "
                           "gateway)")
    if gateway_ip is None:
        raise InvalidInput("a subnet without a gateway is not supported: nova-network's gateway is the first "
                           "address of the CIDR")
    if allocation_pools:
        wanted = [(str(p.get("start")), str(p.get("end"))) for p in allocation_pools if isinstance(p, dict)]
        if wanted != [(str(addresses[1]), str(addresses[2]))]:
            raise InvalidInput(f"allocation_pools must be [{addresses[1]}-{addresses[2]}] for {net} "
                               "(nova-network's range: the third to the last-but-one address)")
    dns = [str(d) for d in (dns_nameservers or [])]
    if len(dns) > 2:
        raise InvalidInput("at most 2 dns_nameservers are supported")
    for server in dns:
        try:
            ipaddress.IPv4Address(server)
        except ValueError:
            raise InvalidInput(f"dns_nameservers: {server!r} is not a valid IPv4 address") from None
    options = {"dns1": dns[0] if dns else None, "dns2": dns[1] if len(dns) > 1 else None,
               "project": target.project, "mtu": target.mtu, "uuid": target.uuid,
               "description": target.description, "subnet_name": name or ""}
    if enable_dhcp is False:
        if is_vlan():
            raise InvalidInput("a VLAN network always has DHCP: enable_dhcp cannot be false")
        options["injected"] = True
    elif enable_dhcp is True:
        options["injected"] = False
    with transaction.atomic():
        network_service.creation_lock()
        pending = PendingNetwork.objects.select_for_update().filter(pk=target.pk).first()
        if pending is None:
            raise NetworkNotFound(f"Network {network_id} could not be found.")
        try:
            if is_vlan():
                options.pop("injected", None)
                created = vlan_service.create_vlan_networks(
                    pending.label, str(net), vlan_start=pending.vlan or _next_vlan(), num_networks=1, **options)[0]
            else:
                bridge, interface = _flat_bridge(pending)
                created = network_service.create_network(pending.label, str(net), bridge=bridge,
                                                         bridge_interface=interface, **options)
        except InvalidNetwork as exc:
            raise InvalidInput(exc.message) from None
        pending.delete()
    return created


def update_subnet(network: Network, name: str | None = None) -> Network:
    """PUT subnet: its name (the CIDR, gateway, pools and DHCP servers are the network's)."""
    if name is not None:
        network.subnet_name = name
        network.save(update_fields=["subnet_name", "updated_at"])
    return network


def in_use(network: Network) -> int:
    return FixedIP.objects.filter(network=network, instance_uuid__isnull=False).count()
