"""Fixed IPs: allocation with row locks (never the same address twice), release, leases.
(The DHCP hosts-file entries are built on the host side: network.services.host.dhcp_hosts.)

allocate_fixed_ip takes the least recently released free row with
SELECT ... FOR UPDATE SKIP LOCKED, so concurrent allocations never wait on each other nor
get the same row; a unique (network, instance_uuid) constraint makes a re-delivered task get
the address it already holds.
"""
import logging
import secrets
import uuid as uuid_module

from django.db import IntegrityError, transaction
from django.utils import timezone

from cloudproj.hostnames import sanitize_hostname

from ..models import FixedIP, Network
from . import InvalidNetwork, NetworkNotFound, NoMoreFixedIps

log = logging.getLogger(__name__)

MAC_PREFIX = "fa:16:3e"
MAC_ATTEMPTS = 5  # seeds: --create_unique_mac_address_attempts
DHCP_SERVER_HOSTNAME = "nova-dhcp-server"  # the hostname of a multi-host network's per-host address rows


def generate_mac() -> str:
    return MAC_PREFIX + "".join(f":{b:02x}" for b in secrets.token_bytes(3))


def _uuid(value) -> uuid_module.UUID:
    try:
        return value if isinstance(value, uuid_module.UUID) else uuid_module.UUID(str(value))
    except ValueError:
        raise InvalidNetwork(f"invalid instance uuid {value!r}") from None


def _existing(network_id, instance_uuid):
    return FixedIP.objects.select_for_update().filter(network_id=network_id, instance_uuid=instance_uuid).first()


def allocate_fixed_ip(network: Network, instance_uuid, host: str = "", hostname: str = "") -> FixedIP:
    """Give the instance an address of `network` (the same one again if it already has one)."""
    instance_uuid = _uuid(instance_uuid)
    hostname = sanitize_hostname(hostname, fallback=f"host-{str(instance_uuid)[:8]}")
    host = host or ""
    for _attempt in range(MAC_ATTEMPTS):
        try:
            with transaction.atomic():
                if not Network.objects.filter(pk=network.pk).exists():
                    raise NetworkNotFound(f"Network {network.pk} could not be found.")
                row = _existing(network.pk, instance_uuid)
                if row is not None:  # a re-delivered task: same address, refreshed host/hostname
                    if (row.host, row.hostname) != (host, hostname):
                        row.host, row.hostname, row.updated_at = host, hostname, timezone.now()
                        row.save(update_fields=["host", "hostname", "updated_at"])
                    return row
                row = (
                    FixedIP.objects.select_for_update(skip_locked=True)
                    .filter(network_id=network.pk, allocated=False, reserved=False, instance_uuid__isnull=True)
                    .order_by("updated_at", "id")
                    .first()
                )
                if row is None:
                    raise NoMoreFixedIps(f"No fixed IP addresses available for network {network.label}")
                row.instance_uuid = instance_uuid
                row.allocated = True
                row.leased = False
                row.host = host
                row.hostname = hostname
                row.mac_address = generate_mac()
                row.port_id = uuid_module.uuid4()  # the address's port in the Networking API
                row.updated_at = timezone.now()
                row.save()
                log.info("allocated %s (%s) on %s to %s", row.address, row.mac_address, network.label, instance_uuid)
                return row
        except IntegrityError:
            # Either the MAC collided (retry with another) or the same instance was allocated
            # concurrently (return what it got).
            with transaction.atomic():
                row = _existing(network.pk, instance_uuid)
                if row is not None:
                    return row
    raise NoMoreFixedIps(f"could not generate a unique MAC address in {MAC_ATTEMPTS} attempts")


def host_dhcp_address(network: Network, host: str) -> str:
    """Multi-host: the address `host` serves the network from (its bridge address, dnsmasq's
    listen address, and the gateway of its instances), as nova's per-host dhcp address: a
    fixed IP held by the host itself (no instance, hostname DHCP_SERVER_HOSTNAME)."""
    if not host:
        raise InvalidNetwork("a multi-host network needs the host's name for its DHCP address")
    with transaction.atomic():
        Network.all_objects.select_for_update().filter(pk=network.pk).first()  # one allocation per host at a time
        row = FixedIP.objects.filter(network_id=network.pk, instance_uuid__isnull=True, allocated=True,
                                     host=host, hostname=DHCP_SERVER_HOSTNAME).first()
        if row is not None:
            return row.address
        row = (FixedIP.objects.select_for_update(skip_locked=True)
               .filter(network_id=network.pk, allocated=False, reserved=False, instance_uuid__isnull=True)
               .order_by("id").first())
        if row is None:
            raise NoMoreFixedIps(f"No fixed IP addresses available for the DHCP server of {host} on {network.label}")
        row.allocated, row.host, row.hostname, row.updated_at = True, host, DHCP_SERVER_HOSTNAME, timezone.now()
        row.save(update_fields=["allocated", "host", "hostname", "updated_at"])
        log.info("%s serves network %s from %s", host, network.label, row.address)
        return row.address


def dhcp_servers(network: Network) -> tuple[str, ...]:
    """Where the network's instances may get DHCP answers from: its gateway, and for a
    multi-host network every host's own address (read only). All of them, not only the
    instance's host: hosts sharing one machine answer from the bridge's primary address."""
    if not network.multi_host:
        return (network.gateway,)
    hosts = FixedIP.objects.filter(network_id=network.pk, instance_uuid__isnull=True, allocated=True,
                                   hostname=DHCP_SERVER_HOSTNAME).order_by("id").values_list("address", flat=True)
    return (network.gateway, *hosts)


def release_fixed_ip(instance_uuid) -> list[FixedIP]:
    """Return the instance's addresses to their pools. Returns what was released (once: then [])."""
    instance_uuid = _uuid(instance_uuid)
    released = []
    with transaction.atomic():
        for row in FixedIP.objects.select_for_update().filter(instance_uuid=instance_uuid).order_by("id"):
            snapshot = FixedIP(pk=row.pk, network_id=row.network_id, address=row.address,
                               mac_address=row.mac_address, host=row.host, hostname=row.hostname,
                               instance_uuid=row.instance_uuid, port_id=row.port_id)
            row.instance_uuid = None
            row.allocated = False
            row.leased = False
            row.mac_address = None
            row.port_id = None
            row.host = ""
            row.hostname = ""
            row.updated_at = timezone.now()  # the least recently released address is reused first
            row.save()
            released.append(snapshot)
    for row in released:
        log.info("released %s on network %s from %s", row.address, row.network_id, instance_uuid)
    return released


def fixed_ips_of_instance(instance_uuid) -> list[FixedIP]:
    return list(FixedIP.objects.filter(instance_uuid=_uuid(instance_uuid)).select_related("network")
                .order_by("network_id", "id"))


def mark_leased(network: Network, leases: dict[str, str]) -> int:
    """Record which allocated addresses dnsmasq has leased ({mac: ip} from its lease file)."""
    changed = 0
    rows = FixedIP.objects.filter(network_id=network.pk, allocated=True).only("id", "mac_address", "address", "leased")
    for row in rows:
        leased = leases.get((row.mac_address or "").lower()) == row.address
        if leased != row.leased:
            changed += FixedIP.objects.filter(pk=row.pk, allocated=True, mac_address=row.mac_address).update(leased=leased)
    return changed
