"""Create, find and delete networks (FlatDHCP, the seeds' `network create`)."""
import ipaddress
import logging
import uuid as uuid_module

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from cloudproj import rpc

from .. import validate
from ..models import FixedIP, Network
from . import InvalidNetwork, NetworkInUse, NetworkNotFound
from .fixed_ips import DHCP_SERVER_HOSTNAME
from .managers import manager

log = logging.getLogger(__name__)

MIN_PREFIX, MAX_PREFIX = 16, 30  # /16 .. /30
RESERVED_BOTTOM = 2  # the network address and the gateway (seeds: dhcp start = network + 2)
RESERVED_TOP = 1  # the broadcast address
DEFAULT_LABEL = "private"


def _ip(value, what):
    if value in (None, ""):
        return None
    try:
        return validate.ipv4(value)
    except validate.InvalidValue:
        raise InvalidNetwork(f"{what} {value!r} is not a valid IPv4 address") from None


def parse_cidr(cidr: str, network_size: int | None = None) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.IPv4Network(str(cidr).strip(), strict=True)
    except ValueError as exc:
        raise InvalidNetwork(f"invalid fixed range {cidr!r}: {exc}") from None
    if network_size is not None:
        if network_size < 4 or network_size & (network_size - 1):
            raise InvalidNetwork(f"network size {network_size} must be a power of two of at least 4")
        if network_size > net.num_addresses:
            raise InvalidNetwork(f"network size {network_size} is larger than the range {net}")
        net = ipaddress.IPv4Network((net.network_address, 32 - (network_size.bit_length() - 1)))
    if not MIN_PREFIX <= net.prefixlen <= MAX_PREFIX:
        raise InvalidNetwork(f"fixed range {net} must be between /{MIN_PREFIX} and /{MAX_PREFIX}")
    return net


def creation_lock() -> None:
    """Serialise network creations (inside a transaction): overlap and vlan checks see them all.
    A transaction-level advisory lock: taking it again in the same transaction is fine."""
    if connection.vendor == "postgresql":  # SQLite serialises writers by itself
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('cloudproj.network.create'))")


def create_network(label: str, cidr: str, bridge: str | None = None, bridge_interface: str | None = None,
                   dns1: str | None = None, dns2: str | None = None, multi_host: bool = False,
                   project=None, host: str | None = None, num_networks: int = 1,
                   network_size: int | None = None, vlan: int | None = None, mtu: int | None = None,
                   injected: bool | None = None, uuid: uuid_module.UUID | None = None, description: str = "",
                   subnet_name: str = "") -> Network:
    """Create a network and its FixedIP rows; refused if it overlaps an active network.
    `injected` (default: NETWORK_MANAGER is flat): the Flat manager's network, without DHCP.
    `uuid`, `description`, `subnet_name`: the Networking API's (network.services.neutron)."""
    label = (label or "").strip()
    if not label or len(label) > 255:
        raise InvalidNetwork("a network label of 1-255 characters is required")
    if num_networks != 1:
        raise InvalidNetwork("only --num_networks 1 is supported without --vlan_start (FlatDHCP: one network "
                             "per bridge)")
    if vlan is not None and (isinstance(vlan, bool) or not isinstance(vlan, int) or not 1 <= vlan <= 4094):
        raise InvalidNetwork(f"vlan {vlan!r} must be an integer between 1 and 4094")
    net = parse_cidr(cidr, network_size)
    bridge = bridge or settings.FLAT_NETWORK_BRIDGE
    if bridge_interface is None:
        bridge_interface = settings.FLAT_INTERFACE or ""
    for name, what in ((bridge, "bridge"), (bridge_interface, "bridge interface")):
        if name:
            try:
                validate.ifname(name)
            except validate.InvalidValue as exc:
                raise InvalidNetwork(f"{what}: {exc}") from None
    if not bridge:
        raise InvalidNetwork("a bridge is required (FLAT_NETWORK_BRIDGE or --bridge)")
    dns1, dns2 = _ip(dns1, "dns1"), _ip(dns2, "dns2")
    if mtu is not None and not 576 <= int(mtu) <= 9000:
        raise InvalidNetwork(f"mtu {mtu} must be between 576 and 9000")
    if host:
        host = str(host).strip()
    if injected is None:
        injected = manager() == "flat" and vlan is None
    if injected and vlan is not None:
        raise InvalidNetwork("a VLAN network always has DHCP: it cannot be injected (Flat)")
    addresses = list(net)
    with transaction.atomic():
        creation_lock()
        for other in Network.objects.all():
            if ipaddress.IPv4Network(other.cidr).overlaps(net):
                raise InvalidNetwork(f"fixed range {net} overlaps network {other.label} ({other.cidr})")
            if other.label == label:
                raise InvalidNetwork(f"a network labelled {label!r} already exists")
            if other.bridge == bridge:
                raise InvalidNetwork(f"bridge {bridge} is already used by network {other.label}")
        network = Network.objects.create(
            label=label, cidr=str(net), netmask=str(net.netmask), gateway=str(addresses[1]),
            broadcast=str(net.broadcast_address), dhcp_start=str(addresses[RESERVED_BOTTOM]),
            dhcp_end=str(addresses[-1 - RESERVED_TOP]), dns1=dns1, dns2=dns2, bridge=bridge,
            bridge_interface=bridge_interface or "", vlan=vlan, multi_host=bool(multi_host),
            project=project, host=host or None, mtu=mtu, injected=bool(injected),
            description=description or "", subnet_name=subnet_name or "",
            **({"uuid": uuid} if uuid is not None else {}),
        )
        last = len(addresses) - RESERVED_TOP
        FixedIP.objects.bulk_create(
            (FixedIP(network=network, address=str(address), reserved=not RESERVED_BOTTOM <= i < last)
             for i, address in enumerate(addresses)),
            batch_size=5000,
        )
    log.info("network %s created: %s on %s", network.label, network.cidr, network.bridge)
    return network


def ensure_default_network() -> Network:
    """The network `make run` boots into: label "private", FIXED_RANGE, FLAT_NETWORK_BRIDGE."""
    existing = Network.objects.filter(label=DEFAULT_LABEL).first()
    if existing is not None:
        return existing
    try:
        return create_network(DEFAULT_LABEL, settings.FIXED_RANGE, bridge=settings.FLAT_NETWORK_BRIDGE)
    except InvalidNetwork:
        existing = Network.objects.filter(label=DEFAULT_LABEL).first()  # created concurrently
        if existing is not None:
            return existing
        raise


def get_network(id_or_label, project_id: str | None = None, is_admin: bool = True) -> Network:
    """An active network by uuid, label, CIDR or numeric id, visible to the project (else not found)."""
    value = str(id_or_label).strip()
    qs = visible_networks(project_id, is_admin)
    network = None
    try:
        network = qs.filter(uuid=uuid_module.UUID(value)).first()
    except ValueError:
        pass
    if network is None:
        network = qs.filter(label=value).first() or qs.filter(cidr=value).first()
    if network is None and value.isdigit() and is_admin:
        network = qs.filter(pk=int(value)).first()
    if network is None:
        raise NetworkNotFound(f"Network {value} could not be found.")
    return network


def visible_networks(project_id: str | None, is_admin: bool):
    qs = Network.objects.select_related("project")
    if is_admin:
        return qs
    # Unassigned VLAN networks are the pool the VLAN manager hands out: nobody's to use yet.
    return qs.filter(Q(project__isnull=True, vlan__isnull=True) | Q(project_id=project_id))


def delete_network(network: Network) -> Network:
    """Soft-delete a network; refused while any of its addresses is allocated."""
    with transaction.atomic():
        network = Network.all_objects.select_for_update().get(pk=network.pk)
        if network.deleted_at is not None:
            raise NetworkNotFound(f"Network {network.uuid} could not be found.")
        in_use = FixedIP.objects.filter(network=network).filter(
            Q(allocated=True) | Q(instance_uuid__isnull=False)).exclude(
            instance_uuid__isnull=True, hostname=DHCP_SERVER_HOSTNAME).count()  # hosts' own addresses go with it
        if in_use:
            raise NetworkInUse(f"Network {network.label} is still in use: {in_use} address(es) allocated")
        network.soft_delete()
        FixedIP.objects.filter(network=network).delete()
        if network.host:
            transaction.on_commit(lambda: _request_teardown(network))
    log.info("network %s (%s) deleted", network.label, network.cidr)
    return network


def _request_teardown(network: Network) -> None:
    """Ask the network host to stop its dnsmasq and remove its bridge (supervision does it too)."""
    try:
        rpc.teardown_network(network.host, network.pk)
    except Exception:  # the broker being down must not undo a delete
        log.exception("could not ask %s to tear network %s down", network.host, network.pk)
