"""What projects do with floating IPs (the API side; the NAT is floating.services.host's).

    allocate(ctx, pool=None) -> FloatingIP          quota floating_ips, a free row under a lock
    release(ctx, fip)                               disassociates first; quota given back
    associate(ctx, instance, address, fixed_address=None) -> FloatingIP
    disassociate(ctx, instance, address) -> FloatingIP
    disassociate_instance(instance_uuid) -> {host}  an instance going away (hook and signal)
    get_floating_ip(ctx, key) / floating_ips_of(ctx) / as_dict(fip)

Row locks are always taken in the order Instance -> FixedIP -> FloatingIP (as a server delete
does), so concurrent requests wait for each other instead of deadlocking. A change of
association asks the NAT host(s) to regenerate their rules from the DB, after commit
(`floating.sync_host` on network.<host>).
"""
import ipaddress
import logging
import uuid as uuid_lib

from django.db import transaction
from django.utils import timezone

from cloudproj import rpc
from compute import states
from compute.models import Instance
from identity.services import quotas
from network.models import FixedIP
from network.services.serving import serving_host

from ..models import FloatingIP
from . import FloatingConflict, FloatingNotFound, FloatingOverQuota, InvalidFloating, NoMoreFloatingIps
from . import ranges

log = logging.getLogger(__name__)

RESOURCE = "floating_ips"


# --- the host side is told after commit -------------------------------------------------------


def send_sync(host: str | None) -> None:
    """Ask `host`'s agent to regenerate its floating NAT from the DB once this transaction commits."""
    if not host:
        return

    def send():
        try:
            rpc.sync_floating_ips(host)
        except Exception:  # the DB is right; the agent regenerates at start-up
            log.exception("could not ask %s to apply its floating IPs", host)

    transaction.on_commit(send)


# --- lookups ----------------------------------------------------------------------------------


def _is_admin(ctx) -> bool:
    return bool(getattr(ctx, "is_admin", False))


def parse_address(value, field: str = "address") -> str:
    if not isinstance(value, str):
        raise InvalidFloating(f"Invalid input for field/attribute {field}: an IPv4 address is required.")
    try:
        return str(ipaddress.IPv4Address(value.strip()))
    except ValueError:
        raise InvalidFloating(f"Invalid input for field/attribute {field}: {value!r} is not an IPv4 address.") from None


def floating_ips_of(ctx):
    """The project's floating IPs (the context's project, admins included, as Nova lists)."""
    return FloatingIP.objects.filter(project_id=ctx.project_id).select_related("fixed_ip").order_by("id")


def _visible(ctx, row: FloatingIP | None) -> bool:
    """Allocated, to the context's project (any project for admins)."""
    if row is None or row.project_id is None:
        return False
    return _is_admin(ctx) or row.project_id == ctx.project_id


def get_floating_ip(ctx, key) -> FloatingIP:
    """An allocated address by id (uuid) or address; another project's (for non-admins) and
    unallocated ones are not found."""
    text = str(key).strip()
    qs = FloatingIP.objects.select_related("fixed_ip")
    row = None
    try:
        row = qs.filter(uuid=uuid_lib.UUID(text)).first()
    except ValueError:
        try:
            row = qs.filter(address=str(ipaddress.IPv4Address(text))).first()
        except ValueError:
            row = None
    if row is None or not _visible(ctx, row):
        raise FloatingNotFound(f"Floating IP not found for ID {text}")
    return row


def as_dict(row: FloatingIP) -> dict:
    """Nova's os-floating-ips body of one address."""
    fixed = row.fixed_ip.address if (row.instance_uuid and row.fixed_ip_id) else None
    return {
        "id": str(row.uuid),
        "ip": row.address,
        "pool": row.pool,
        "fixed_ip": fixed,
        "instance_id": str(row.instance_uuid) if row.instance_uuid else None,
    }


# --- allocate / release -----------------------------------------------------------------------


def allocate(ctx, pool=None) -> FloatingIP:
    """A free address of `pool` (DEFAULT_FLOATING_POOL) for the context's project."""
    if pool is not None and not isinstance(pool, str):
        raise InvalidFloating("Invalid input for field/attribute pool: must be a string or null.")
    pool = ranges.pool_name(pool)
    if not FloatingIP.objects.filter(pool=pool).exists():
        raise FloatingNotFound(f"Floating IP pool {pool} not found.")
    with transaction.atomic():
        try:
            reservation = quotas.reserve(ctx.project_id, {RESOURCE: 1})
        except quotas.OverQuota as exc:
            raise FloatingOverQuota(
                f"Maximum number of floating IPs exceeded (quota {exc.quotas[RESOURCE]}, "
                f"used {exc.usages[RESOURCE]})."
            ) from None
        row = (FloatingIP.objects.select_for_update(skip_locked=True)
               .filter(pool=pool, project__isnull=True).order_by("id").first())
        if row is None:
            raise NoMoreFloatingIps(f"No more floating IPs in pool {pool}.")
        row.project_id = ctx.project_id
        row.allocated_at = timezone.now()
        row.auto_assigned = False
        row.revision_number = 0
        row.save(update_fields=["project", "allocated_at", "auto_assigned", "revision_number", "updated_at"])
        quotas.commit(reservation)
    log.info("floating IP %s allocated to project %s", row.address, row.project_id)
    return row


def release(ctx, row: FloatingIP) -> None:
    """Give the address back to its pool (disassociated first, as Nova does)."""
    with transaction.atomic():
        row = FloatingIP.objects.select_for_update().get(pk=row.pk)
        if not _visible(ctx, row):
            raise FloatingNotFound(f"Floating IP not found for ID {row.uuid}")
        project_id = row.project_id
        send_sync(_clear_association(row))
        _return_to_pool(row)
    log.info("floating IP %s released by project %s", row.address, project_id)


def _return_to_pool(row: FloatingIP) -> None:
    """A locked, disassociated row back to its pool; its project's quota usage goes down."""
    project_id = row.project_id
    row.project = None
    row.allocated_at = None
    row.auto_assigned = False
    row.uuid = uuid_lib.uuid4()  # an id names one allocation: the released one is gone
    row.description = ""
    row.revision_number = 0
    row.save(update_fields=["project", "allocated_at", "auto_assigned", "uuid", "description", "revision_number",
                            "updated_at"])
    if project_id:
        quotas.commit(quotas.reserve(project_id, {RESOURCE: -1}))


# --- associate / disassociate -----------------------------------------------------------------


def _clear_association(row: FloatingIP) -> str | None:
    """Unset the association of a locked row (saved). Returns the host that did its NAT."""
    host = row.host
    if row.instance_uuid is None and row.fixed_ip_id is None and not host:
        return None
    log.info("floating IP %s disassociated from %s (%s)", row.address, row.instance_uuid,
             row.fixed_ip.address if row.fixed_ip_id else "-")
    row.fixed_ip = None
    row.instance_uuid = None
    row.host = None
    row.associated_at = None
    row.nat_applied = False
    row.save(update_fields=["fixed_ip", "instance_uuid", "host", "associated_at", "nat_applied", "updated_at"])
    return host


def clear_association(row: FloatingIP) -> str | None:
    """Disassociate a row locked by the caller (saved; no-op when not associated). Returns the
    host whose NAT must be re-applied (pass it to send_sync)."""
    return _clear_association(row)


def _fixed_ip_for(instance: Instance, fixed_address) -> FixedIP:
    rows = list(FixedIP.objects.filter(instance_uuid=instance.uuid).select_related("network")
                .order_by("network_id", "id"))
    if not rows:
        raise InvalidFloating("No fixed IPs associated to instance: the server has no address yet.")
    if fixed_address is None:
        return rows[0]
    fixed_address = parse_address(fixed_address, "fixed_address")
    for row in rows:
        if row.address == fixed_address:
            return row
    raise InvalidFloating(f"Specified fixed address {fixed_address} not assigned to instance.")


def associate(ctx, instance: Instance, address, fixed_address=None) -> FloatingIP:
    """Point floating `address` (the project's) at the server's fixed address (the first one
    unless `fixed_address`). An address associated elsewhere moves here, as in nova-network."""
    address = parse_address(address)
    fixed = _fixed_ip_for(instance, fixed_address)
    with transaction.atomic():
        locked = Instance.all_objects.select_for_update().filter(pk=instance.pk).first()
        if locked is None or locked.deleted_at is not None or locked.task_state == states.task.DELETING:
            raise FloatingConflict(f"Cannot associate a floating IP with instance {instance.uuid} while it is "
                                   "being deleted.")
        fixed = (FixedIP.objects.select_for_update(of=("self",)).select_related("network")
                 .filter(pk=fixed.pk).first())
        if fixed is None or fixed.instance_uuid != instance.uuid:
            raise FloatingConflict(f"The fixed address of instance {instance.uuid} changed; try again.")
        row = FloatingIP.objects.select_for_update().filter(address=address).first()
        if not _visible(ctx, row):
            raise FloatingNotFound(f"floating IP {address} not found")
        if row.project_id != locked.project_id:
            raise InvalidFloating(f"Floating IP {address} and instance {instance.uuid} belong to different projects.")
        target = serving_host(fixed.network, fixed.host or locked.host or "") or None
        if not target:
            raise FloatingConflict(f"Instance {instance.uuid} has no host yet: its network has no NAT host.")
        if (row.fixed_ip_id, row.instance_uuid, row.host) == (fixed.pk, instance.uuid, target):
            send_sync(target)  # already so: make sure the host has it
            return row
        previous = _clear_association(row)
        if previous and previous != target:
            send_sync(previous)
        row.fixed_ip = fixed
        row.instance_uuid = instance.uuid
        row.host = target
        row.associated_at = timezone.now()
        row.nat_applied = False
        row.save(update_fields=["fixed_ip", "instance_uuid", "host", "associated_at", "nat_applied", "updated_at"])
        send_sync(target)
    log.info("floating IP %s associated with %s (%s) on %s", row.address, instance.uuid, fixed.address, target)
    return row


def disassociate(ctx, instance: Instance, address) -> FloatingIP:
    address = parse_address(address)
    with transaction.atomic():
        row = FloatingIP.objects.select_for_update().filter(address=address).first()
        if not _visible(ctx, row):
            raise FloatingNotFound(f"floating IP {address} not found")
        if row.instance_uuid is None:
            raise InvalidFloating(f"Floating IP {address} is not associated.")
        if row.instance_uuid != instance.uuid:
            raise FloatingConflict(f"Floating IP {address} is not associated with instance {instance.uuid}.")
        send_sync(_clear_association(row))
    return row


def disassociate_instance(instance_uuid, notify: bool = True) -> set[str]:
    """Disassociate every floating IP of an instance that goes away (an auto-assigned one goes
    back to its pool). Returns the NAT hosts concerned (told to re-apply after commit when
    `notify`)."""
    hosts = set()
    with transaction.atomic():
        for row in FloatingIP.objects.select_for_update().filter(instance_uuid=instance_uuid).order_by("id"):
            host = _clear_association(row)
            if host:
                hosts.add(host)
            if row.auto_assigned:
                _return_to_pool(row)
                log.info("auto-assigned floating IP %s released with instance %s", row.address, instance_uuid)
        if notify:
            for host in sorted(hosts):
                send_sync(host)
    return hosts


def floating_by_fixed(rows) -> dict:
    """{fixed IP id: [floating address, ...]} of the rows' current associations (one query):
    what a server's `addresses` show (registered into compute.api.server_view)."""
    owners = {row.pk: row.instance_uuid for row in rows}
    grouped: dict = {}
    if not owners:
        return grouped
    found = FloatingIP.objects.filter(fixed_ip_id__in=list(owners), instance_uuid__isnull=False).order_by("id")
    for fixed_id, instance_uuid, address in found.values_list("fixed_ip_id", "instance_uuid", "address"):
        if owners.get(fixed_id) == instance_uuid:
            grouped.setdefault(fixed_id, []).append(address)
    return grouped
