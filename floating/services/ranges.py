"""Floating ranges, as the seeds' `nova-manage floating create|list|delete` manage them.

    create_range(ip_range, pool=None, interface=None) -> [FloatingIP]
    delete_range(ip_range) -> int          refused while an address is allocated to a project
    pools() -> [name]

A range is a CIDR (its host addresses: no network/broadcast address below /31) or a single
address. It may not overlap an existing floating address nor an active fixed network.
"""
import ipaddress
import logging

from django.conf import settings
from django.db import connection, transaction

from network.linux import validate
from network.models import Network

from ..models import FloatingIP
from . import FloatingConflict, InvalidFloating

log = logging.getLogger(__name__)

MIN_PREFIX = 16  # at most 65534 addresses in one command
MAX_POOL = 255
UNUSABLE = ("0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4")


def parse_range(ip_range) -> ipaddress.IPv4Network:
    text = str(ip_range or "").strip()
    if not text:
        raise InvalidFloating("an IP range is required (--ip_range=CIDR)")
    try:
        net = ipaddress.IPv4Network(text, strict=True)
    except ValueError as exc:
        raise InvalidFloating(f"invalid IP range {text!r}: {exc}") from None
    if net.prefixlen < MIN_PREFIX:
        raise InvalidFloating(f"IP range {net} is too large: at most /{MIN_PREFIX}")
    if any(net.overlaps(ipaddress.IPv4Network(bad)) for bad in UNUSABLE):
        raise InvalidFloating(f"IP range {net} is not usable for public addresses (this network, loopback, "
                              "link-local, multicast or reserved)")
    return net


def range_addresses(net: ipaddress.IPv4Network) -> list[str]:
    """The usable addresses of a range (as nova-manage: hosts only, a /32 is itself)."""
    if net.prefixlen >= 31:
        return [str(a) for a in net]
    return [str(a) for a in net.hosts()]


def pool_name(pool) -> str:
    pool = (pool or settings.DEFAULT_FLOATING_POOL or "").strip()
    if not pool or len(pool) > MAX_POOL or any(ord(c) < 32 for c in pool):
        raise InvalidFloating(f"invalid pool name {pool!r}: 1-{MAX_POOL} printable characters")
    return pool


def interface_name(interface) -> str:
    if interface in (None, ""):
        return ""
    try:
        return validate.ifname(str(interface))
    except validate.InvalidValue as exc:
        raise InvalidFloating(f"interface: {exc}") from None


def create_range(ip_range, pool=None, interface=None) -> list[FloatingIP]:
    """Create the range's floating IPs in `pool` (DEFAULT_FLOATING_POOL). Without an interface
    the NAT host's FLOATING_INTERFACE carries the addresses."""
    net = parse_range(ip_range)
    pool = pool_name(pool)
    interface = interface_name(interface)
    addresses = range_addresses(net)
    with transaction.atomic():
        if connection.vendor == "postgresql":  # serialise creations: the overlap checks must see them all
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('cloudproj.floating.create'))")
        for network in Network.objects.all():
            if ipaddress.IPv4Network(network.cidr).overlaps(net):
                raise InvalidFloating(f"IP range {net} overlaps fixed network {network.label} ({network.cidr})")
        existing = list(FloatingIP.objects.filter(address__in=addresses).order_by("id")
                        .values_list("address", flat=True)[:1])
        if existing:
            raise FloatingConflict(f"floating IP {existing[0]} already exists")
        rows = FloatingIP.objects.bulk_create(
            (FloatingIP(address=address, pool=pool, interface=interface) for address in addresses),
            batch_size=5000,
        )
    log.info("floating range %s created: %d addresses in pool %s (interface %s)", net, len(rows), pool,
             interface or "FLOATING_INTERFACE")
    return rows


def delete_range(ip_range) -> int:
    """Remove the range's floating IPs; refused while any of them is allocated to a project."""
    net = parse_range(ip_range)
    addresses = range_addresses(net)
    with transaction.atomic():
        rows = FloatingIP.objects.select_for_update().filter(address__in=addresses)
        found = list(rows)
        if not found:
            raise InvalidFloating(f"no floating IP of {net} exists")
        in_use = [row for row in found if row.project_id is not None or row.instance_uuid is not None]
        if in_use:
            raise FloatingConflict(f"{len(in_use)} address(es) of {net} are allocated to projects "
                                   f"(first: {in_use[0].address}); release them first")
        deleted, _ = FloatingIP.objects.filter(pk__in=[row.pk for row in found]).delete()
    log.info("floating range %s deleted: %d addresses", net, deleted)
    return deleted


def pools() -> list[str]:
    return list(FloatingIP.objects.order_by("pool").values_list("pool", flat=True).distinct())


def summarize() -> list[dict]:
    """The floating addresses as ranges: runs of consecutive addresses in one pool and interface,
    each {"first", "last", "pool", "interface", "total", "used", "free", "cidr"}; `cidr` is the
    range `delete_range` takes when the run is exactly the addresses of one (else None)."""
    rows = sorted(
        ((int(ipaddress.IPv4Address(a)), pool, interface, project_id is not None)
         for a, pool, interface, project_id in FloatingIP.objects.values_list("address", "pool", "interface",
                                                                               "project_id")),
    )
    runs: list[dict] = []
    for number, pool, interface, used in rows:
        run = runs[-1] if runs else None
        if run is None or number != run["_last"] + 1 or (pool, interface) != (run["pool"], run["interface"]):
            run = {"_first": number, "_last": number, "pool": pool, "interface": interface, "total": 0, "used": 0}
            runs.append(run)
        run["_last"] = number
        run["total"] += 1
        run["used"] += used
    for run in runs:
        first, last = ipaddress.IPv4Address(run.pop("_first")), ipaddress.IPv4Address(run.pop("_last"))
        run.update(first=str(first), last=str(last), free=run["total"] - run["used"], cidr=_exact_cidr(first, last))
    return runs


def _exact_cidr(first: ipaddress.IPv4Address, last: ipaddress.IPv4Address) -> str | None:
    """The CIDR whose usable addresses are exactly first..last (a /31../32 itself, else hosts)."""
    if first == last:
        return f"{first}/32"
    for candidate in ipaddress.summarize_address_range(first - 1, last + 1) if int(first) > 0 else ():
        if int(candidate.network_address) == int(first) - 1 and int(candidate.broadcast_address) == int(last) + 1:
            return str(candidate)
    blocks = list(ipaddress.summarize_address_range(first, last))
    if len(blocks) == 1 and blocks[0].prefixlen == 31:
        return str(blocks[0])
    return None
